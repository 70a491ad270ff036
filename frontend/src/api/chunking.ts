/** POST /api/v2/chunking/preview: the chunks a chunking configuration would make of a sample text. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { ChunkingPreview, ChunkingPreviewRequest } from "./types";

export function useChunkingPreview(request: ChunkingPreviewRequest | null) {
  return useQuery({
    queryKey: queryKeys.chunkingPreview(request),
    queryFn: ({ signal }) => api.post<ChunkingPreview>("/api/v2/chunking/preview", request, { signal }),
    enabled: request !== null && (request.text ?? "").trim().length > 0,
    placeholderData: keepPreviousData,
    staleTime: Infinity,
    retry: false,
  });
}
