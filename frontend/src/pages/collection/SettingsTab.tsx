/** Collection settings: rename, describe, periodic sync; reindex with another model or chunking; delete. */
import { useState, type SyntheticEvent } from "react";
import { useNavigate } from "react-router";

import { isOwner, useDeleteCollection, useReindexCollection, useUpdateCollection } from "../../api/collections";
import { errorMessage, formErrors, type FormErrors } from "../../api/errors";
import { useModels } from "../../api/models";
import type { CollectionDetail, ReindexRequest } from "../../api/types";
import { Button } from "../../components/Button";
import { CHUNKING_FIELDS, ChunkingFields, validateChunking, type ChunkingValues } from "../../components/ChunkingFields";
import { Checkbox, TextAreaField, TextField } from "../../components/fields";
import { ErrorState, FormMessage, Loading } from "../../components/states";
import { notify } from "../../stores/ui";

const sectionClass = "space-y-4 rounded-lg border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900";

export function SettingsTab({ collection }: { collection: CollectionDetail }) {
  return (
    <div className="max-w-3xl space-y-8">
      <GeneralForm collection={collection} />
      <ReindexForm collection={collection} />
      {isOwner(collection) && <DeleteCollection collection={collection} />}
    </div>
  );
}

function GeneralForm({ collection }: { collection: CollectionDetail }) {
  const update = useUpdateCollection(collection.id);
  const [name, setName] = useState(collection.name);
  const [description, setDescription] = useState(collection.description);
  const [sync, setSync] = useState(collection.sync_interval_minutes !== null);
  const [minutes, setMinutes] = useState(String(collection.sync_interval_minutes ?? 60));
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!name.trim()) fields.name = "A collection needs a name.";
    else if (name.trim().length > 128) fields.name = "At most 128 characters.";
    const interval = Number(minutes);
    if (sync && (!Number.isInteger(interval) || interval < 5)) fields.sync_interval_minutes = "At least 5 minutes.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    update.mutate(
      { name: name.trim(), description, sync_interval_minutes: sync ? interval : null },
      {
        onSuccess: () => notify({ kind: "success", title: "Settings saved" }),
        onError: (error) => setErrors(formErrors(error, ["name", "description", "sync_interval_minutes"])),
      },
    );
  };

  return (
    <form noValidate onSubmit={submit} aria-labelledby="general-heading" className={sectionClass}>
      <h2 id="general-heading" className="text-base font-semibold">
        General
      </h2>
      <FormMessage message={errors.form} />
      <TextField label="Name" value={name} maxLength={128} onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
      <TextAreaField
        label="Description"
        rows={2}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        error={errors.fields.description}
      />
      <Checkbox
        label="Rescan every source periodically"
        checked={sync}
        onChange={(e) => setSync(e.target.checked)}
        description="Picks up new, changed and deleted files without anyone asking."
      />
      {sync && (
        <TextField
          label="Every (minutes)"
          type="number"
          min={5}
          inputMode="numeric"
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          error={errors.fields.sync_interval_minutes}
          fieldClassName="w-40"
        />
      )}
      <Button type="submit" busy={update.isPending}>
        Save
      </Button>
    </form>
  );
}

function ReindexForm({ collection }: { collection: CollectionDetail }) {
  const models = useModels("embedding");
  const reindex = useReindexCollection(collection.id);
  const initial: ChunkingValues = {
    embedding_model: collection.embedding_model,
    precision: collection.precision,
    chunking_strategy: collection.chunking_strategy,
    chunk_size: String(collection.chunk_size),
    chunk_overlap: String(collection.chunk_overlap),
  };
  const [values, setValues] = useState<ChunkingValues>(initial);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  if (models.isPending) return <Loading label="Loading models…" />;
  if (models.isError) return <ErrorState error={models.error} onRetry={() => void models.refetch()} />;

  const model = models.data.find((m) => m.name === values.embedding_model);
  const changes: ReindexRequest = {};
  if (values.embedding_model !== initial.embedding_model) changes.embedding_model = values.embedding_model;
  if (values.precision && values.precision !== initial.precision) changes.precision = values.precision;
  if (values.chunking_strategy !== initial.chunking_strategy) changes.chunking_strategy = values.chunking_strategy;
  if (values.chunk_size !== initial.chunk_size) changes.chunk_size = Number(values.chunk_size);
  if (values.chunk_overlap !== initial.chunk_overlap) changes.chunk_overlap = Number(values.chunk_overlap);

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const fields = validateChunking(values, model);
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    reindex.mutate(changes, {
      onSuccess: () => notify({ kind: "info", title: "Reindex started", body: "Search keeps answering from the current index until it is done." }),
      onError: (error) => setErrors(formErrors(error, CHUNKING_FIELDS)),
    });
  };

  return (
    <form noValidate onSubmit={submit} aria-labelledby="reindex-heading" className={sectionClass}>
      <h2 id="reindex-heading" className="text-base font-semibold">
        Reindex
      </h2>
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Every file is indexed again into a new index with these settings; search keeps using the current one until the new
        one is complete. Leave them as they are to rebuild with the same settings.
      </p>
      <FormMessage message={errors.form} />
      <ChunkingFields values={values} onChange={setValues} models={models.data} errors={errors.fields} />
      <Button type="submit" variant="secondary" busy={reindex.isPending}>
        {Object.keys(changes).length > 0 ? "Reindex with these settings" : "Reindex"}
      </Button>
    </form>
  );
}

function DeleteCollection({ collection }: { collection: CollectionDetail }) {
  const remove = useDeleteCollection(collection.id);
  const navigate = useNavigate();
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  const matches = typed === collection.name;

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (!matches) {
      setError("Type the collection's name exactly to confirm.");
      return;
    }
    remove.mutate(undefined, {
      onSuccess: () => {
        notify({ kind: "success", title: `Deleted ${collection.name}` });
        void navigate("/");
      },
      onError: (err) => setError(errorMessage(err)),
    });
  };

  return (
    <form noValidate onSubmit={submit} aria-labelledby="delete-heading" className={`${sectionClass} border-red-300 dark:border-red-900`}>
      <h2 id="delete-heading" className="text-base font-semibold text-red-800 dark:text-red-300">
        Delete this collection
      </h2>
      <p className="text-sm text-gray-700 dark:text-gray-300">
        Its sources, documents and vectors are removed for good; uploaded files are deleted. Files in folders stay where
        they are.
      </p>
      <FormMessage message={error} />
      <TextField
        label={
          <>
            Type <strong className="font-mono">{collection.name}</strong> to confirm
          </>
        }
        value={typed}
        autoComplete="off"
        onChange={(e) => {
          setTyped(e.target.value);
          setError(null);
        }}
      />
      <Button type="submit" variant="danger" disabled={!matches} busy={remove.isPending}>
        Delete collection
      </Button>
    </form>
  );
}
