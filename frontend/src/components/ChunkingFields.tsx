/** Model, precision and chunking settings (create and reindex share them), validated like the server. */
import type { CatalogModel, ChunkingStrategy, Precision } from "../api/types";
import { SelectField, TextField } from "./fields";

export interface ChunkingValues {
  embedding_model: string;
  precision: Precision | "";
  chunking_strategy: ChunkingStrategy;
  chunk_size: string;
  chunk_overlap: string;
}

export const CHUNKING_FIELDS = ["embedding_model", "precision", "chunking_strategy", "chunk_size", "chunk_overlap"] as const;

/** Tokens the model adds around every chunk (the server's SPECIAL_TOKENS). */
const SPECIAL_TOKENS = 2;

export function chunkSizeLimit(model: CatalogModel | undefined): number | null {
  return model ? model.max_length - SPECIAL_TOKENS : null;
}

/** Field errors the server would give, caught before sending. */
export function validateChunking(values: ChunkingValues, model: CatalogModel | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!values.embedding_model) errors.embedding_model = "Choose a model.";
  else if (values.precision && model && !model.precisions.includes(values.precision)) {
    errors.precision = `${model.name} is exported in ${model.precisions.join(", ")}.`;
  }
  const size = Number(values.chunk_size);
  const overlap = Number(values.chunk_overlap);
  const limit = chunkSizeLimit(model);
  if (!Number.isInteger(size) || values.chunk_size.trim() === "") errors.chunk_size = "Enter a whole number of tokens.";
  else if (size < 16) errors.chunk_size = "At least 16 tokens.";
  else if (limit !== null && size > limit) errors.chunk_size = `${model?.name ?? "This model"} reads at most ${limit} tokens per chunk.`;
  if (!Number.isInteger(overlap) || values.chunk_overlap.trim() === "") errors.chunk_overlap = "Enter a whole number of tokens.";
  else if (overlap < 0) errors.chunk_overlap = "Cannot be negative.";
  else if (Number.isInteger(size) && overlap >= size) errors.chunk_overlap = "Must be smaller than the chunk size.";
  return errors;
}

export function ChunkingFields({
  values,
  onChange,
  models,
  errors,
}: {
  values: ChunkingValues;
  onChange: (values: ChunkingValues) => void;
  models: CatalogModel[];
  errors: Record<string, string>;
}) {
  const model = models.find((m) => m.name === values.embedding_model);
  const limit = chunkSizeLimit(model);
  const set = (patch: Partial<ChunkingValues>) => onChange({ ...values, ...patch });

  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <SelectField
        label="Embedding model"
        value={values.embedding_model}
        onChange={(e) => {
          const next = models.find((m) => m.name === e.target.value);
          const precision = next && values.precision && !next.precisions.includes(values.precision) ? "" : values.precision;
          set({ embedding_model: e.target.value, precision });
        }}
        error={errors.embedding_model}
        description={model ? `${model.source} · ${model.dimension ?? "?"} dimensions${model.ready ? "" : " · not ready"}` : undefined}
      >
        {models.length === 0 && <option value="">No models available</option>}
        {models.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name}
            {m.ready ? "" : " (not ready)"}
          </option>
        ))}
      </SelectField>
      <SelectField
        label="Precision"
        value={values.precision}
        onChange={(e) => set({ precision: e.target.value as Precision | "" })}
        error={errors.precision}
        description="Which exported variant embeds: int8 is faster on a CPU, float32 the most exact."
      >
        <option value="">Server default</option>
        {(model?.variants ?? []).map((variant) => (
          <option key={variant.precision} value={variant.precision}>
            {variant.precision}
            {variant.ready ? "" : ` (not ready${variant.reason ? `: ${variant.reason}` : ""})`}
          </option>
        ))}
      </SelectField>
      <SelectField
        label="Chunking strategy"
        value={values.chunking_strategy}
        onChange={(e) => set({ chunking_strategy: e.target.value as ChunkingStrategy })}
        error={errors.chunking_strategy}
        description={
          values.chunking_strategy === "recursive"
            ? "Sections at headings, then paragraphs, sentences and words."
            : "Windows of exactly the chunk size, whatever the text's structure."
        }
        fieldClassName="sm:col-span-2"
      >
        <option value="recursive">Recursive (follows the text's structure)</option>
        <option value="fixed">Fixed size</option>
      </SelectField>
      <TextField
        label="Chunk size (tokens)"
        type="number"
        inputMode="numeric"
        min={16}
        max={limit ?? undefined}
        value={values.chunk_size}
        onChange={(e) => set({ chunk_size: e.target.value })}
        error={errors.chunk_size}
        description={limit !== null ? `16 to ${limit} for this model.` : undefined}
      />
      <TextField
        label="Overlap (tokens)"
        type="number"
        inputMode="numeric"
        min={0}
        value={values.chunk_overlap}
        onChange={(e) => set({ chunk_overlap: e.target.value })}
        error={errors.chunk_overlap}
        description="How much of a chunk's end begins the next one."
      />
    </div>
  );
}
