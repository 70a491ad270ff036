import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { queryKeys } from "../../src/api/queryKeys";
import type { Operation, Paginated } from "../../src/api/types";
import { writeOperation } from "../../src/live/cache";
import { createLiveEventHandler } from "../../src/live/events";
import type { Toast } from "../../src/stores/ui";
import { collection, operation } from "../helpers/fixtures";

const event = (type: string, data: unknown) => ({ type, ts: "2025-01-01T10:00:00Z", data });

describe("live events", () => {
  let queryClient: QueryClient;
  let toasts: Omit<Toast, "id">[];
  let handler: ReturnType<typeof createLiveEventHandler>;

  beforeEach(() => {
    vi.useFakeTimers();
    queryClient = new QueryClient();
    toasts = [];
    handler = createLiveEventHandler(queryClient, (toast) => toasts.push(toast), { invalidateDelayMs: 1000 });
    queryClient.setQueryData(queryKeys.collection(collection().id), collection());
  });
  afterEach(() => {
    handler.dispose();
    queryClient.clear();
  });

  const active = () => queryClient.getQueryData<Operation[]>(queryKeys.activeOperations);
  const isStale = (key: readonly unknown[]) => queryClient.getQueryState(key)?.isInvalidated ?? false;

  const followed = [collection().id];

  it("takes the snapshot as the set of active operations", () => {
    handler.handle(event("snapshot", { collections: followed, operations: [operation()] }));
    expect(active()?.map((o) => o.id)).toEqual([operation().id]);
    expect(queryClient.getQueryData(queryKeys.operation(operation().id))).toEqual(operation());
  });

  it("refreshes what changed while disconnected: an operation missing from the snapshot has ended", () => {
    handler.handle(event("snapshot", { collections: followed, operations: [operation()] }));
    handler.handle(event("snapshot", { collections: followed, operations: [] }));
    expect(active()).toEqual([]);
    expect(isStale(queryKeys.collection(collection().id))).toBe(true);
  });

  it("keeps other collections' operations when a subscribe's snapshot covers only what it added", () => {
    handler.handle(event("snapshot", { collections: followed, operations: [operation()] }));
    const publicOne = "c0ffee00-0000-4000-8000-000000000099";
    const theirs = operation({ id: "0be7a710-0000-4000-8000-000000000099", collection_id: publicOne });
    handler.handle(event("snapshot", { collections: [publicOne], operations: [theirs] }));
    expect(active()?.map((o) => o.id).sort()).toEqual([operation().id, theirs.id].sort());
    handler.handle(event("snapshot", { collections: [publicOne], operations: [] }));
    expect(active()?.map((o) => o.id)).toEqual([operation().id]);
  });

  it("writes progress into the active set and into cached operation lists", () => {
    queryClient.setQueryData<Paginated<Operation>>(queryKeys.operationList({ collection: collection().id }), {
      count: 1,
      next: null,
      previous: null,
      results: [operation({ files_processed: 1 })],
    });
    handler.handle(event("operation.progress", operation({ files_processed: 70, eta_s: 12 })));
    expect(active()?.[0]?.files_processed).toBe(70);
    const list = queryClient.getQueryData<Paginated<Operation>>(queryKeys.operationList({ collection: collection().id }));
    expect(list?.results[0]?.eta_s).toBe(12);
  });

  it("on completion drops the operation from the active set, refreshes the collection and says so", () => {
    handler.handle(event("operation.started", operation()));
    handler.handle(event("operation.completed", operation({ status: "completed", files_processed: 100, chunks_written: 900 })));
    expect(active()).toEqual([]);
    expect(isStale(queryKeys.collection(collection().id))).toBe(true);
    expect(toasts).toEqual([
      { kind: "success", title: "Indexing of Garden notes finished", body: "100 files processed, 900 chunks written." },
    ]);
  });

  it("announces a failure with its reason", () => {
    handler.handle(event("operation.failed", operation({ status: "failed", error: "Triton is unreachable" })));
    expect(toasts[0]).toMatchObject({ kind: "error", title: "Indexing of Garden notes failed", body: "Triton is unreachable" });
  });

  it("refreshes a collection's documents at most once a second while files are processed", () => {
    handler.handle(event("operation.started", operation()));
    const documents = queryKeys.documents(collection().id, "", 1);
    queryClient.setQueryData(documents, { count: 0, next: null, previous: null, results: [] });
    const invalidate = vi.spyOn(queryClient, "invalidateQueries");
    for (let i = 0; i < 50; i += 1) {
      handler.handle(event("document.processed", { operation_id: operation().id, document_id: `d${i}`, path: `f${i}.md`, chunks: 3 }));
    }
    expect(isStale(documents)).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(isStale(documents)).toBe(true);
    const documentCalls = invalidate.mock.calls.filter(([filters]) => JSON.stringify(filters?.queryKey).includes("documents"));
    expect(documentCalls).toHaveLength(1);
  });

  it("never lets a late answer bring a finished operation back", () => {
    handler.handle(event("operation.completed", operation({ status: "completed" })));
    writeOperation(queryClient, operation({ status: "pending" }));
    expect(active()).toEqual([]);
  });

  it("applies collection.updated to the cached collection", () => {
    queryClient.setQueryData(queryKeys.collectionList(), [collection()]);
    handler.handle(event("collection.updated", { id: collection().id, name: "Garden", status: "indexing" }));
    expect(queryClient.getQueryData<{ name: string }>(queryKeys.collection(collection().id))?.name).toBe("Garden");
    expect(queryClient.getQueryData<{ status: string }[]>(queryKeys.collectionList())?.[0]?.status).toBe("indexing");
  });

  it("ignores event types it does not know", () => {
    expect(() => handler.handle(event("something.new", { x: 1 }))).not.toThrow();
  });
});
