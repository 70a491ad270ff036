/** Documents of a collection: filter by status, read failure reasons, retry failed ones, open a preview. */
import { useState } from "react";
import { Link, useSearchParams } from "react-router";

import { canWrite } from "../../api/collections";
import { DOCUMENTS_PAGE_SIZE, useDocuments, useRetryDocument } from "../../api/documents";
import { errorMessage } from "../../api/errors";
import type { CollectionDetail, DocumentInfo, DocumentStatus } from "../../api/types";
import { Button } from "../../components/Button";
import { SelectField } from "../../components/fields";
import { Pagination } from "../../components/Pagination";
import { EmptyState, ErrorState, Loading } from "../../components/states";
import { StatusBadge } from "../../components/StatusBadge";
import { formatBytes, formatCount, formatRelative } from "../../lib/format";
import { notify } from "../../stores/ui";

const STATUSES: { value: DocumentStatus | ""; label: string }[] = [
  { value: "", label: "All" },
  { value: "indexed", label: "Indexed" },
  { value: "pending", label: "Pending" },
  { value: "failed", label: "Failed" },
];

export function DocumentsTab({ collection }: { collection: CollectionDetail }) {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as DocumentStatus | "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const documents = useDocuments(collection.id, status, page);

  const update = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(patch)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => update({ status: e.target.value, page: "" })}
          fieldClassName="w-48"
        >
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </SelectField>
        {documents.data && (
          <p className="text-sm text-gray-700 dark:text-gray-300" aria-live="polite">
            {formatCount(documents.data.count)} documents
          </p>
        )}
      </div>
      {documents.isPending ? (
        <Loading label="Loading documents…" />
      ) : documents.isError ? (
        <ErrorState error={documents.error} onRetry={() => void documents.refetch()} />
      ) : documents.data.results.length === 0 ? (
        <EmptyState title={status ? `No ${status} documents` : "No documents yet"}>
          {status ? "Try another status." : "Documents appear here as sources are indexed."}
        </EmptyState>
      ) : (
        <>
          <ul aria-label="Documents" className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
            {documents.data.results.map((document) => (
              <DocumentRow key={document.id} document={document} collectionId={collection.id} writable={canWrite(collection)} />
            ))}
          </ul>
          <Pagination
            page={page}
            pageSize={DOCUMENTS_PAGE_SIZE}
            count={documents.data.count}
            onPage={(p) => update({ page: String(p) })}
            label="Document pages"
          />
        </>
      )}
    </div>
  );
}

function DocumentRow({ document, collectionId, writable }: { document: DocumentInfo; collectionId: string; writable: boolean }) {
  const retry = useRetryDocument(collectionId);
  const [retried, setRetried] = useState(false);
  return (
    <li className="flex flex-wrap items-start justify-between gap-3 p-3 text-sm">
      <div className="min-w-0 flex-1">
        <p className="break-all font-medium">
          {document.status === "indexed" ? (
            <Link to={`/documents/${document.id}`} className="hover:underline">
              {document.relative_path}
            </Link>
          ) : (
            document.relative_path
          )}
        </p>
        <p className="text-gray-600 dark:text-gray-400">
          {document.title && document.title !== document.relative_path && <>{document.title} · </>}
          {document.mime_type} · {formatBytes(document.size)} · {formatCount(document.chunk_count)} chunks · indexed{" "}
          {formatRelative(document.indexed_at)}
        </p>
        {document.status === "failed" && document.error && (
          <p className="mt-1 break-words text-red-700 dark:text-red-300">
            <span className="font-medium">Failed:</span> {document.error}
          </p>
        )}
      </div>
      <div className="flex shrink-0 items-center gap-2">
        <StatusBadge status={document.status} />
        {writable && document.status === "failed" && (
          <Button
            variant="secondary"
            size="sm"
            busy={retry.isPending}
            disabled={retried}
            aria-label={`Retry ${document.relative_path}`}
            onClick={() =>
              retry.mutate(document.id, {
                onSuccess: () => setRetried(true),
                onError: (error) => notify({ kind: "error", title: "Could not retry", body: errorMessage(error) }),
              })
            }
          >
            {retried ? "Retrying…" : "Retry"}
          </Button>
        )}
      </div>
    </li>
  );
}
