/** Writes operation state into the query cache: shared by live events, the polling fallback and mutations. */
import type { QueryClient } from "@tanstack/react-query";

import { queryKeys } from "../api/queryKeys";
import type { Operation, Paginated } from "../api/types";

export const FINAL_STATUSES: readonly Operation["status"][] = ["completed", "failed", "cancelled"];

export function isActive(operation: Operation): boolean {
  return !FINAL_STATUSES.includes(operation.status);
}

/** Puts one operation's state everywhere it is shown: its own query, the active set, cached lists. */
export function writeOperation(queryClient: QueryClient, operation: Operation): void {
  // A late answer (a fetch sent before the last event) never brings a finished operation back.
  const known = queryClient.getQueryData<Operation>(queryKeys.operation(operation.id));
  if (known && !isActive(known) && isActive(operation)) return;
  queryClient.setQueryData(queryKeys.operation(operation.id), operation);
  cancelActiveFetch(queryClient);
  queryClient.setQueryData<Operation[]>(queryKeys.activeOperations, (active = []) => {
    const others = active.filter((o) => o.id !== operation.id);
    return isActive(operation) ? [operation, ...others] : others;
  });
  queryClient.setQueriesData<Paginated<Operation>>({ queryKey: queryKeys.operationLists }, (page) =>
    page && page.results.some((o) => o.id === operation.id)
      ? { ...page, results: page.results.map((o) => (o.id === operation.id ? operation : o)) }
      : page,
  );
}

/**
 * Replaces the active operations of the snapshot's collections with the snapshot's (those of other
 * collections stay: a `subscribe` is answered with a snapshot of what it added only); returns the
 * operations of those collections that were active and are no longer.
 */
export function replaceActiveOperations(
  queryClient: QueryClient,
  operations: Operation[],
  collectionIds: readonly string[],
): Operation[] {
  const covered = new Set([...collectionIds, ...operations.map((o) => o.collection_id)]);
  const before = queryClient.getQueryData<Operation[]>(queryKeys.activeOperations) ?? [];
  const now = new Set(operations.map((o) => o.id));
  for (const operation of operations) queryClient.setQueryData(queryKeys.operation(operation.id), operation);
  cancelActiveFetch(queryClient);
  const kept = before.filter((o) => !covered.has(o.collection_id));
  queryClient.setQueryData<Operation[]>(queryKeys.activeOperations, [...operations.filter(isActive), ...kept]);
  return before.filter((o) => covered.has(o.collection_id) && !now.has(o.id));
}

/** A fetch of the active set sent before this event would land after it with older state: drop it. */
function cancelActiveFetch(queryClient: QueryClient): void {
  void queryClient.cancelQueries({ queryKey: queryKeys.activeOperations, exact: true });
}

/** Everything an operation's end changes: the collection's counts and status, its documents and sources. */
export function invalidateCollectionState(queryClient: QueryClient, collectionId: string): void {
  void queryClient.invalidateQueries({ queryKey: queryKeys.collection(collectionId) });
  void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
  void queryClient.invalidateQueries({ queryKey: queryKeys.sources(collectionId) });
  void queryClient.invalidateQueries({ queryKey: queryKeys.documentsOf(collectionId) });
  void queryClient.invalidateQueries({ queryKey: queryKeys.operationLists });
}
