/** Sources of a collection: folders and uploads; add, rescan, remove. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { trackAccepted } from "./operations";
import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { OperationAccepted, Source, SourceAddRequest, UploadAccepted } from "./types";

const sourcesPath = (collectionId: string) =>
  `/api/v2/collections/${encodeURIComponent(collectionId)}/sources`;

export function useSources(collectionId: string) {
  return useQuery({
    queryKey: queryKeys.sources(collectionId),
    queryFn: async ({ signal }) =>
      (await api.get<{ results: Source[] }>(sourcesPath(collectionId), undefined, signal)).results,
  });
}

export function useAddSource(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: SourceAddRequest) => api.post<OperationAccepted>(sourcesPath(collectionId), body),
    onSuccess: (accepted) => {
      trackAccepted(queryClient, accepted);
      void queryClient.invalidateQueries({ queryKey: queryKeys.sources(collectionId) });
    },
  });
}

export function useRescanSource(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (sourceId: string) =>
      api.post<OperationAccepted>(`${sourcesPath(collectionId)}/${encodeURIComponent(sourceId)}/rescan`),
    onSuccess: (accepted) => trackAccepted(queryClient, accepted),
  });
}

export function useRemoveSource(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (sourceId: string) =>
      api.delete<OperationAccepted>(`${sourcesPath(collectionId)}/${encodeURIComponent(sourceId)}`),
    onSuccess: (accepted) => trackAccepted(queryClient, accepted),
  });
}

/** A file to upload and the relative path it keeps (a folder's layout, from webkitRelativePath). */
export interface UploadItem {
  file: File;
  path: string;
}

export function uploadForm(items: UploadItem[]): FormData {
  const form = new FormData();
  // The server pairs the n-th `paths` part with the n-th `files` part.
  for (const item of items) form.append("files", item.file, item.file.name);
  for (const item of items) form.append("paths", item.path);
  return form;
}

export function useUpload(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (items: UploadItem[]) =>
      api.post<UploadAccepted>(
        `/api/v2/collections/${encodeURIComponent(collectionId)}/uploads`,
        undefined,
        { form: uploadForm(items) },
      ),
    onSuccess: (accepted) => {
      trackAccepted(queryClient, accepted);
      void queryClient.invalidateQueries({ queryKey: queryKeys.sources(collectionId) });
    },
  });
}
