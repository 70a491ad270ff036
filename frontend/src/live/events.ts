/**
 * What each live event changes: operation state written straight into the query cache, the queries
 * an event makes stale invalidated (at most once a second per collection, so a fast index does not
 * refetch per file), and a toast when an operation ends.
 */
import type { QueryClient } from "@tanstack/react-query";

import { queryKeys } from "../api/queryKeys";
import type { Collection, Operation } from "../api/types";
import type { Toast } from "../stores/ui";
import { invalidateCollectionState, replaceActiveOperations, writeOperation } from "./cache";
import type { LiveEvent } from "./socket";

export interface LiveEventHandler {
  handle: (event: LiveEvent) => void;
  dispose: () => void;
}

type Notify = (toast: Omit<Toast, "id">) => void;

const OPERATION_LABELS: Record<Operation["type"], string> = {
  index: "Indexing",
  append: "Adding files",
  rescan: "Rescan",
  reindex: "Reindex",
  remove_source: "Removing a source",
  delete: "Deleting",
  upload: "Upload",
  retry: "Retry",
  sync: "Sync",
};

export function operationLabel(type: Operation["type"]): string {
  return OPERATION_LABELS[type];
}

export function createLiveEventHandler(
  queryClient: QueryClient,
  notify: Notify,
  { invalidateDelayMs = 1000 }: { invalidateDelayMs?: number } = {},
): LiveEventHandler {
  const pending = new Map<string, ReturnType<typeof setTimeout>>();

  const refreshDocumentsLater = (collectionId: string) => {
    if (pending.has(collectionId)) return;
    pending.set(
      collectionId,
      setTimeout(() => {
        pending.delete(collectionId);
        void queryClient.invalidateQueries({ queryKey: queryKeys.documentsOf(collectionId) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.collection(collectionId) });
      }, invalidateDelayMs),
    );
  };

  const collectionName = (id: string): string => {
    const detail = queryClient.getQueryData<Collection>(queryKeys.collection(id));
    const listed = queryClient.getQueryData<Collection[]>(queryKeys.collectionList())?.find((c) => c.id === id);
    return detail?.name ?? listed?.name ?? "a collection";
  };

  const finished = (operation: Operation) => {
    writeOperation(queryClient, operation);
    invalidateCollectionState(queryClient, operation.collection_id);
    const what = `${operationLabel(operation.type)} of ${collectionName(operation.collection_id)}`;
    if (operation.status === "completed") {
      const failures = operation.files_failed > 0 ? `, ${operation.files_failed} failed` : "";
      notify({
        kind: operation.files_failed > 0 ? "info" : "success",
        title: `${what} finished`,
        body: `${operation.files_processed} files processed, ${operation.chunks_written} chunks written${failures}.`,
      });
    } else if (operation.status === "failed") {
      notify({ kind: "error", title: `${what} failed`, body: operation.error || undefined });
    } else {
      notify({ kind: "info", title: `${what} was cancelled` });
    }
  };

  const handle = (event: LiveEvent) => {
    switch (event.type) {
      case "snapshot": {
        const { operations, collections = [] } = event.data as { operations: Operation[]; collections?: string[] };
        // Operations that ended while the socket was down: their collections changed meanwhile.
        for (const gone of replaceActiveOperations(queryClient, operations, collections)) {
          invalidateCollectionState(queryClient, gone.collection_id);
        }
        break;
      }
      case "operation.started":
        writeOperation(queryClient, event.data as Operation);
        // The collection turns "indexing": its card and page show it.
        void queryClient.invalidateQueries({ queryKey: queryKeys.collection((event.data as Operation).collection_id) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
        void queryClient.invalidateQueries({ queryKey: queryKeys.operationLists });
        break;
      case "operation.progress":
        writeOperation(queryClient, event.data as Operation);
        break;
      case "operation.completed":
      case "operation.failed":
      case "operation.cancelled":
        finished(event.data as Operation);
        break;
      case "document.processed":
      case "document.failed": {
        const { operation_id } = event.data as { operation_id: string };
        const operation = queryClient.getQueryData<Operation>(queryKeys.operation(operation_id));
        if (operation) refreshDocumentsLater(operation.collection_id);
        break;
      }
      case "collection.updated": {
        // A collection's full state when the server sends it, else just its id: refetch.
        const data = event.data as Partial<Collection> & { collection_id?: string };
        const id = data.id ?? data.collection_id;
        if (!id) break;
        if (typeof data.name === "string") {
          queryClient.setQueryData<Collection>(queryKeys.collection(id), (old) => (old ? { ...old, ...data } : old));
          queryClient.setQueryData<Collection[]>(queryKeys.collectionList(), (list) =>
            list?.map((c) => (c.id === id ? { ...c, ...data } : c)),
          );
        }
        void queryClient.invalidateQueries({ queryKey: queryKeys.collection(id) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.collectionList() });
        break;
      }
      default:
        // pong, error (refused subscriptions) and types this UI does not know yet.
        break;
    }
  };

  return {
    handle,
    dispose: () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}
