/** Collections: list, read, create, update, reindex, delete. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useFallbackInterval } from "../stores/ui";
import { trackAccepted } from "./operations";
import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type {
  Collection,
  CollectionCreateRequest,
  CollectionDetail,
  CollectionRole,
  CollectionUpdateRequest,
  OperationAccepted,
  Paginated,
  ReindexRequest,
} from "./types";

const path = (id: string) => `/api/v2/collections/${encodeURIComponent(id)}`;

/** Every collection the user may see (the server caps a page at 500; beyond that, the first 500). */
export function useCollections() {
  const refetchInterval = useFallbackInterval(10_000);
  return useQuery({
    queryKey: queryKeys.collectionList(),
    queryFn: async ({ signal }) =>
      (await api.get<Paginated<Collection>>("/api/v2/collections", { page_size: 500 }, signal)).results,
    refetchInterval,
  });
}

export function useCollection(id: string) {
  const refetchInterval = useFallbackInterval(10_000);
  return useQuery({
    queryKey: queryKeys.collection(id),
    queryFn: ({ signal }) => api.get<CollectionDetail>(path(id), undefined, signal),
    refetchInterval,
  });
}

export function useCreateCollection() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CollectionCreateRequest) => api.post<CollectionDetail>("/api/v2/collections", body),
    onSuccess: (created) => {
      queryClient.setQueryData(queryKeys.collection(created.id), created);
      void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
    },
  });
}

export function useUpdateCollection(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CollectionUpdateRequest) => api.patch<CollectionDetail>(path(id), body),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.collection(id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
    },
  });
}

export function useReindexCollection(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ReindexRequest) => api.post<OperationAccepted>(`${path(id)}/reindex`, body),
    onSuccess: (accepted) => trackAccepted(queryClient, accepted),
  });
}

export function useDeleteCollection(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete(path(id)),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: queryKeys.collection(id) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
    },
  });
}

/** The caller's right on the collection: owner, editor, viewer, or public (read and search only). */
export function roleOf(collection: Pick<Collection, "role">): CollectionRole {
  return collection.role;
}

export const canWrite = (collection: Pick<Collection, "role">): boolean =>
  ["owner", "editor"].includes(roleOf(collection));

export const isOwner = (collection: Pick<Collection, "role">): boolean => roleOf(collection) === "owner";
