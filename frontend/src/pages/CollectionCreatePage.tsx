/** Create a collection: name, model and precision, chunking, with a live preview of the chunks. */
import { useEffect, useState, type SyntheticEvent } from "react";
import { useNavigate } from "react-router";

import { useCreateCollection } from "../api/collections";
import { formErrors, type FormErrors } from "../api/errors";
import { useModels } from "../api/models";
import { Button, ButtonLink } from "../components/Button";
import { CHUNKING_FIELDS, ChunkingFields, chunkSizeLimit, validateChunking, type ChunkingValues } from "../components/ChunkingFields";
import { ChunkPreview } from "../components/ChunkPreview";
import { TextAreaField, TextField } from "../components/fields";
import { PageHeader, useTitle } from "../components/PageHeader";
import { ErrorState, FormMessage, Loading } from "../components/states";

const FIELDS = ["name", "description", ...CHUNKING_FIELDS] as const;

export function CollectionCreatePage() {
  useTitle("New collection");
  const navigate = useNavigate();
  const models = useModels("embedding");
  const create = useCreateCollection();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chunking, setChunking] = useState<ChunkingValues>({
    embedding_model: "",
    precision: "",
    chunking_strategy: "recursive",
    chunk_size: "200",
    chunk_overlap: "32",
  });
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  // The first ready model is the default choice once the catalog has loaded.
  useEffect(() => {
    if (chunking.embedding_model || !models.data?.length) return;
    const first = models.data.find((m) => m.ready) ?? models.data[0];
    if (!first) return;
    const limit = chunkSizeLimit(first) ?? 200;
    setChunking((values) => ({
      ...values,
      embedding_model: first.name,
      chunk_size: String(Math.min(Number(values.chunk_size) || 200, limit)),
    }));
  }, [models.data, chunking.embedding_model]);

  const model = models.data?.find((m) => m.name === chunking.embedding_model);
  const chunkingErrors = validateChunking(chunking, model);

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = { ...chunkingErrors };
    if (!name.trim()) fields.name = "Give the collection a name.";
    else if (name.trim().length > 128) fields.name = "At most 128 characters.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    create.mutate(
      {
        name: name.trim(),
        description,
        embedding_model: chunking.embedding_model,
        ...(chunking.precision ? { precision: chunking.precision } : {}),
        chunking_strategy: chunking.chunking_strategy,
        chunk_size: Number(chunking.chunk_size),
        chunk_overlap: Number(chunking.chunk_overlap),
      },
      {
        onSuccess: (created) => void navigate(`/collections/${created.id}/sources`),
        onError: (error) => setErrors(formErrors(error, FIELDS)),
      },
    );
  };

  return (
    <div>
      <PageHeader title="New collection" subtitle="Choose how documents are cut and embedded. You add folders next." />
      {models.isPending ? (
        <Loading label="Loading models…" />
      ) : models.isError ? (
        <ErrorState error={models.error} onRetry={() => void models.refetch()} title="Could not load the models" />
      ) : (
        <div className="grid gap-8 lg:grid-cols-2">
          <form noValidate onSubmit={submit} className="space-y-4" aria-label="New collection">
            <FormMessage message={errors.form} />
            <TextField
              label="Name"
              name="name"
              required
              maxLength={128}
              value={name}
              onChange={(e) => setName(e.target.value)}
              error={errors.fields.name}
            />
            <TextAreaField
              label="Description (optional)"
              name="description"
              rows={2}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              error={errors.fields.description}
            />
            <ChunkingFields values={chunking} onChange={setChunking} models={models.data} errors={errors.fields} />
            <div className="flex gap-2">
              <Button type="submit" busy={create.isPending}>
                Create collection
              </Button>
              <ButtonLink to="/" variant="secondary">
                Cancel
              </ButtonLink>
            </div>
          </form>
          <ChunkPreview values={chunking} valid={Object.keys(chunkingErrors).length === 0} />
        </div>
      )}
    </div>
  );
}
