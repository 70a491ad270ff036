/** Documents: lists by status, one document, its text around a chunk, retry, the original file. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { decodeDocument } from "../lib/rendering";
import { useFallbackInterval } from "../stores/ui";
import { ApiError } from "./errors";
import { trackAccepted } from "./operations";
import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { Chunk, DocumentInfo, DocumentStatus, DocumentText, OperationAccepted, Paginated } from "./types";

export const DOCUMENTS_PAGE_SIZE = 50;

export function useDocuments(collectionId: string, status: DocumentStatus | "", page: number) {
  const refetchInterval = useFallbackInterval(10_000);
  return useQuery({
    queryKey: queryKeys.documents(collectionId, status, page),
    queryFn: ({ signal }) =>
      api.get<Paginated<DocumentInfo>>(
        `/api/v2/collections/${encodeURIComponent(collectionId)}/documents`,
        { status, page, page_size: DOCUMENTS_PAGE_SIZE },
        signal,
      ),
    placeholderData: keepPreviousData,
    refetchInterval,
  });
}

export function useDocument(id: string) {
  return useQuery({
    queryKey: queryKeys.document(id),
    queryFn: ({ signal }) => api.get<DocumentInfo>(`/api/v2/documents/${encodeURIComponent(id)}`, undefined, signal),
  });
}

/** Characters `start` to `end` (null: to the end) of the document's extracted text. */
export function useDocumentText(id: string, start: number, end: number | null, enabled = true) {
  return useQuery({
    queryKey: queryKeys.documentText(id, start, end),
    queryFn: ({ signal }) =>
      api.get<DocumentText>(`/api/v2/documents/${encodeURIComponent(id)}/text`, { start, end }, signal),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 5 * 60_000,
    // 409 (the file changed) and 422 (it cannot be extracted) will not get better by asking again.
    retry: (count, error) => count < 2 && !(error instanceof ApiError && [404, 409, 422].includes(error.status)),
  });
}

/** The original file as text (a Markdown or HTML file the preview renders), decoded as the server reads it. */
export function useDocumentContent(id: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.documentContent(id),
    queryFn: async ({ signal }) => {
      const response = await api.fetchRaw(`/api/v2/documents/${encodeURIComponent(id)}/content`, signal);
      return decodeDocument(await response.arrayBuffer(), response.headers.get("Content-Type"));
    },
    enabled,
    staleTime: 5 * 60_000,
    retry: (count, error) => count < 2 && !(error instanceof ApiError && [404, 409, 422].includes(error.status)),
  });
}

/** One chunk by index (a link that names only `chunk`): its page of the chunk list, one per page. */
export function useChunk(documentId: string, index: number | null) {
  return useQuery({
    queryKey: queryKeys.chunk(documentId, index ?? -1),
    queryFn: async ({ signal }) => {
      const page = await api.get<Paginated<Chunk>>(
        `/api/v2/documents/${encodeURIComponent(documentId)}/chunks`,
        { page: (index ?? 0) + 1, page_size: 1 },
        signal,
      );
      return page.results[0] ?? null;
    },
    enabled: index !== null,
    staleTime: 5 * 60_000,
  });
}

export function useRetryDocument(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (documentId: string) =>
      api.post<OperationAccepted>(`/api/v2/documents/${encodeURIComponent(documentId)}/retry`),
    onSuccess: (accepted) => {
      trackAccepted(queryClient, accepted);
      void queryClient.invalidateQueries({ queryKey: queryKeys.documentsOf(collectionId) });
    },
  });
}

/**
 * Opens the original file. PDFs open in a new tab at `page`; other types are downloaded, never shown
 * from a blob: URL, which would run an HTML file's scripts with the UI's origin.
 */
export async function openOriginal(document: DocumentInfo, page?: number | null): Promise<void> {
  const response = await api.fetchRaw(`/api/v2/documents/${encodeURIComponent(document.id)}/content`);
  const blob = await response.blob();
  const isPdf = (response.headers.get("Content-Type") ?? blob.type).startsWith("application/pdf");
  const url = URL.createObjectURL(isPdf ? blob : new Blob([blob], { type: "application/octet-stream" }));
  const link = window.document.createElement("a");
  if (isPdf) {
    link.href = page ? `${url}#page=${page}` : url;
    link.target = "_blank";
    link.rel = "noopener";
  } else {
    link.href = url;
    link.download = document.relative_path.split("/").pop() ?? "document";
  }
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
