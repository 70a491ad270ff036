/**
 * Sharing a collection: the users it is shared with (viewer or editor) and whether it is public.
 * TODO(sharing): the endpoints are being built (GET/POST /api/v2/collections/{id}/shares
 * {username, role}, PATCH/DELETE .../shares/{user_id}, `is_public` on the collection's PATCH). Until
 * they answer, `useShares` reports `unavailable` and the tab says so instead of failing.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { ApiError } from "./errors";
import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { CollectionDetail, Share } from "./types";

const sharesPath = (collectionId: string) => `/api/v2/collections/${encodeURIComponent(collectionId)}/shares`;

export type SharesState = { available: true; shares: Share[] } | { available: false };

/** A 404 from the API's catch-all ("No API endpoint at ...") means this server has no sharing yet. */
export function isMissingEndpoint(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.message.startsWith("No API endpoint");
}

export function useShares(collectionId: string) {
  return useQuery({
    queryKey: queryKeys.shares(collectionId),
    queryFn: async ({ signal }): Promise<SharesState> => {
      try {
        const body = await api.get<{ results: Share[] } | Share[]>(sharesPath(collectionId), undefined, signal);
        return { available: true, shares: Array.isArray(body) ? body : body.results };
      } catch (error) {
        if (isMissingEndpoint(error)) return { available: false };
        throw error;
      }
    },
  });
}

export function useAddShare(collectionId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; role: Share["role"] }) => api.post<Share>(sharesPath(collectionId), body),
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
    mutationFn: async (isPublic: boolean) => {
      const updated = await api.patch<CollectionDetail>(`/api/v2/collections/${encodeURIComponent(collectionId)}`, {
        is_public: isPublic,
      });
      // A server without sharing ignores the field: say so rather than pretend it changed.
      if (updated.is_public === undefined) {
        throw new Error("This server cannot make collections public yet.");
      }
      return updated;
    },
    onSuccess: (updated) => queryClient.setQueryData(queryKeys.collection(collectionId), updated),
  });
}
