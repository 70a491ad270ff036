/** Operations: the active set (kept live by the socket), history lists, cancel. */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";

import { writeOperation } from "../live/cache";
import { useFallbackInterval, useUiStore } from "../stores/ui";
import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { Operation, OperationAccepted, OperationStatus, Paginated } from "./types";

/** The user's pending and processing operations. Live events write this; it polls only while the socket is down. */
export function useActiveOperations() {
  const live = useUiStore((state) => state.liveStatus === "open");
  return useQuery({
    queryKey: queryKeys.activeOperations,
    queryFn: fetchActiveOperations,
    refetchInterval: live ? false : 3000,
    staleTime: live ? Infinity : 0,
  });
}

export async function fetchActiveOperations({ signal }: { signal?: AbortSignal } = {}): Promise<Operation[]> {
  const [processing, pending] = await Promise.all(
    (["processing", "pending"] as const).map((status) =>
      api.get<Paginated<Operation>>("/api/v2/operations", { status, page_size: 500 }, signal),
    ),
  );
  return [...(processing?.results ?? []), ...(pending?.results ?? [])];
}

export function useActiveOperationsOf(collectionId: string): Operation[] {
  const { data } = useActiveOperations();
  return (data ?? []).filter((o) => o.collection_id === collectionId);
}

export interface OperationFilters {
  collection?: string;
  status?: OperationStatus | "";
  page?: number;
}

export function useOperations(filters: OperationFilters) {
  const refetchInterval = useFallbackInterval(5000);
  return useQuery({
    queryKey: queryKeys.operationList(filters),
    queryFn: ({ signal }) =>
      api.get<Paginated<Operation>>(
        "/api/v2/operations",
        { collection: filters.collection, status: filters.status, page: filters.page, page_size: 25 },
        signal,
      ),
    refetchInterval,
    placeholderData: (previous) => previous,
  });
}

export function useCancelOperation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<Operation>(`/api/v2/operations/${encodeURIComponent(id)}/cancel`),
    onSuccess: (operation) => writeOperation(queryClient, operation),
  });
}

/** After a 202: shows the new operation at once (queued), before its first live event. */
export function trackAccepted(queryClient: QueryClient, accepted: OperationAccepted): void {
  void api
    .get<Operation>(`/api/v2/operations/${encodeURIComponent(accepted.operation_id)}`)
    .then((operation) => writeOperation(queryClient, operation))
    .catch(() => queryClient.invalidateQueries({ queryKey: queryKeys.activeOperations }));
  void queryClient.invalidateQueries({ queryKey: queryKeys.operationLists });
}
