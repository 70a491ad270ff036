/**
 * Sharing a collection (owner only): the users it is shared with, as viewer or editor, through
 * GET/POST /api/v2/collections/{id}/shares and PATCH/DELETE .../shares/{user_id}; and whether it
 * is public (`is_public` on the collection's PATCH).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { CollectionDetail, Share, ShareCreateRequest, ShareList } from "./types";

const sharesPath = (collectionId: string) => `/api/v2/collections/${encodeURIComponent(collectionId)}/shares`;

export function useShares(collectionId: string) {
  return useQuery({
    queryKey: queryKeys.shares(collectionId),
    queryFn: async ({ signal }): Promise<Share[]> =>
      (await api.get<ShareList>(sharesPath(collectionId), undefined, signal)).results,
  });
}

export function useAddShare(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ShareCreateRequest) => api.post<Share>(sharesPath(collectionId), body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.shares(collectionId) }),
  });
}

export function useUpdateShare(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: Share["role"] }) =>
      api.patch<Share>(`${sharesPath(collectionId)}/${userId}`, { role }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.shares(collectionId) }),
  });
}

export function useRemoveShare(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => api.delete(`${sharesPath(collectionId)}/${userId}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.shares(collectionId) }),
  });
}

export function useSetPublic(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (isPublic: boolean) =>
      api.patch<CollectionDetail>(`/api/v2/collections/${encodeURIComponent(collectionId)}`, { is_public: isPublic }),
    onSuccess: (updated) => queryClient.setQueryData(queryKeys.collection(collectionId), updated),
  });
}
