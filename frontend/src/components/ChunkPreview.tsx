/** A live preview of the chunks the chosen settings make of a sample text (debounced while typing). */
import { useId, useMemo, useState } from "react";

import { useChunkingPreview } from "../api/chunking";
import { formErrors } from "../api/errors";
import type { ChunkingPreviewRequest } from "../api/types";
import { pluralise } from "../lib/format";
import { useDebounced } from "../lib/useDebounced";
import type { ChunkingValues } from "./ChunkingFields";
import { TextAreaField } from "./fields";
import { Spinner } from "./states";

export const SAMPLE_TEXT = `# Pruning roses

Prune roses in late winter or early spring, when the buds begin to swell. Cut just above an outward-facing bud, at a slight angle, so water runs off the cut.

## Tools

Use sharp bypass secateurs; anvil pruners crush the stems. Clean the blades between plants to avoid spreading disease.

## After pruning

Feed the plants with a balanced fertiliser and mulch around the base. Water deeply once a week in dry weather.`;

export const PREVIEW_DEBOUNCE_MS = 400;

export function previewRequest(
  values: ChunkingValues,
  text: string,
  fileName: string,
  valid: boolean,
): ChunkingPreviewRequest | null {
  if (!valid || !text.trim()) return null;
  return {
    text,
    file_name: fileName,
    embedding_model: values.embedding_model || undefined,
    chunking_strategy: values.chunking_strategy,
    chunk_size: Number(values.chunk_size),
    chunk_overlap: Number(values.chunk_overlap),
  };
}

export function ChunkPreview({ values, valid }: { values: ChunkingValues; valid: boolean }) {
  const [text, setText] = useState(SAMPLE_TEXT);
  const [fileName, setFileName] = useState("sample.md");
  const fileInputId = useId();
  // Debounced as a string: a new object each render would restart the timer for ever.
  const requestKey = useDebounced(JSON.stringify(previewRequest(values, text, fileName, valid)), PREVIEW_DEBOUNCE_MS);
  const request = useMemo(() => JSON.parse(requestKey) as ChunkingPreviewRequest | null, [requestKey]);
  const preview = useChunkingPreview(request);

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setText((await file.text()).slice(0, 200_000));
    setFileName(file.name);
  };

  return (
    <section aria-labelledby="chunk-preview-heading" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="chunk-preview-heading" className="text-base font-semibold">
          Chunk preview
        </h2>
        <div className="text-sm">
          <label htmlFor={fileInputId} className="cursor-pointer font-medium text-indigo-700 underline dark:text-indigo-300">
            Try a file of yours
          </label>
          <input
            id={fileInputId}
            type="file"
            className="sr-only"
            accept=".txt,.md,.markdown,.rst,.html,.htm,.py,.js,.ts,.json,.csv,.xml,.yaml,.yml"
            onChange={(e) => void readFile(e.target.files?.[0])}
          />
        </div>
      </div>
      <TextAreaField
        label={`Sample text (read as ${fileName})`}
        rows={6}
        value={text}
        onChange={(e) => setText(e.target.value)}
        description="Nothing is stored: the server only cuts this text the way it would cut your documents."
      />
      <div aria-live="polite" aria-busy={preview.isFetching} className="space-y-2">
        {!valid ? (
          <p className="text-sm text-gray-600 dark:text-gray-400">Fix the settings above to see the chunks.</p>
        ) : preview.isError ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-300">
            {Object.values(formErrors(preview.error).fields).join(" ") || formErrors(preview.error).form}
          </p>
        ) : preview.data ? (
          <>
            <p className="flex items-center gap-2 text-sm text-gray-700 dark:text-gray-300">
              {pluralise(preview.data.chunks.length, "chunk")} from {pluralise(preview.data.characters, "character")}
              {preview.isFetching && <Spinner size="sm" label="Updating…" />}
            </p>
            <ol aria-label="Preview chunks" className="max-h-96 space-y-2 overflow-y-auto">
              {preview.data.chunks.map((chunk) => (
                <li key={chunk.index} className="rounded-md border border-gray-200 p-2 text-sm dark:border-gray-700">
                  <p className="mb-1 text-xs text-gray-600 dark:text-gray-400">
                    #{chunk.index + 1} · {pluralise(chunk.tokens, "token")}
                    {chunk.heading_path.length > 0 && ` · ${chunk.heading_path.join(" › ")}`}
                  </p>
                  <p className="whitespace-pre-wrap break-words">{chunk.text}</p>
                </li>
              ))}
            </ol>
          </>
        ) : preview.isFetching ? (
          <Spinner size="sm" label="Cutting the sample…" />
        ) : null}
      </div>
    </section>
  );
}
