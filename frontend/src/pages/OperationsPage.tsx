/** Every operation across the user's collections: running ones live, the history filterable by status. */
import { useSearchParams } from "react-router";

import { canWrite, useCollections } from "../api/collections";
import { useOperations } from "../api/operations";
import type { OperationStatus } from "../api/types";
import { SelectField } from "../components/fields";
import { OperationList } from "../components/OperationList";
import { PageHeader, useTitle } from "../components/PageHeader";
import { Pagination } from "../components/Pagination";
import { EmptyState, ErrorState, Loading } from "../components/states";

const STATUSES: { value: OperationStatus | ""; label: string }[] = [
  { value: "", label: "All" },
  { value: "processing", label: "Running" },
  { value: "pending", label: "Queued" },
  { value: "completed", label: "Completed" },
  { value: "failed", label: "Failed" },
  { value: "cancelled", label: "Cancelled" },
];

export function OperationsPage() {
  useTitle("Operations");
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as OperationStatus | "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const operations = useOperations({ status, page });
  const collections = useCollections();
  const byId = new Map((collections.data ?? []).map((c) => [c.id, c]));

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(patch)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };

  return (
    <div>
      <PageHeader title="Operations" subtitle="Indexing, rescans, uploads and reindexes across your collections." />
      <SelectField
        label="Status"
        value={status}
        onChange={(e) => set({ status: e.target.value, page: "" })}
        fieldClassName="mb-4 w-48"
      >
        {STATUSES.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </SelectField>
      {operations.isPending ? (
        <Loading label="Loading operations…" />
      ) : operations.isError ? (
        <ErrorState error={operations.error} onRetry={() => void operations.refetch()} />
      ) : operations.data.results.length === 0 ? (
        <EmptyState title={status ? "No operations with this status" : "Nothing has run yet"} />
      ) : (
        <>
          <OperationList
            operations={operations.data.results}
            collectionName={(id) => byId.get(id)?.name}
            canCancel={(operation) => {
              const collection = byId.get(operation.collection_id);
              return collection ? canWrite(collection) : false;
            }}
          />
          <Pagination page={page} pageSize={25} count={operations.data.count} onPage={(p) => set({ page: String(p) })} label="Operation pages" />
        </>
      )}
    </div>
  );
}
