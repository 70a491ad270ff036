/** The collection's operation history, newest first, live while something runs. */
import { useState } from "react";

import { canWrite } from "../../api/collections";
import { useOperations } from "../../api/operations";
import type { CollectionDetail } from "../../api/types";
import { OperationList } from "../../components/OperationList";
import { Pagination } from "../../components/Pagination";
import { EmptyState, ErrorState, Loading } from "../../components/states";

export function OperationsTab({ collection }: { collection: CollectionDetail }) {
  const [page, setPage] = useState(1);
  const operations = useOperations({ collection: collection.id, page });
  if (operations.isPending) return <Loading label="Loading operations…" />;
  if (operations.isError) return <ErrorState error={operations.error} onRetry={() => void operations.refetch()} />;
  if (operations.data.results.length === 0) return <EmptyState title="Nothing has run yet" />;
  return (
    <div>
      <OperationList operations={operations.data.results} canCancel={() => canWrite(collection)} />
      <Pagination page={page} pageSize={25} count={operations.data.count} onPage={setPage} label="Operation pages" />
    </div>
  );
}
