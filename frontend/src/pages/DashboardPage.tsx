/** The collections dashboard: a card per collection with its state and the live progress of its work. */
import { Link } from "react-router";

import { canWrite, roleOf, useCollections } from "../api/collections";
import { useActiveOperations } from "../api/operations";
import type { Collection, Operation } from "../api/types";
import { ButtonLink } from "../components/Button";
import { OperationProgress } from "../components/OperationProgress";
import { PageHeader, useTitle } from "../components/PageHeader";
import { EmptyState, ErrorState, Loading } from "../components/states";
import { StatusBadge } from "../components/StatusBadge";
import { formatBytes, formatCount, formatRelative } from "../lib/format";

export function DashboardPage() {
  useTitle("Collections");
  const collections = useCollections();
  const active = useActiveOperations();

  return (
    <div>
      <PageHeader
        title="Collections"
        subtitle="Folders and files indexed for search."
        actions={<ButtonLink to="/collections/new">New collection</ButtonLink>}
      />
      {collections.isPending ? (
        <Loading label="Loading collections…" />
      ) : collections.isError ? (
        <ErrorState error={collections.error} onRetry={() => void collections.refetch()} />
      ) : collections.data.length === 0 ? (
        <EmptyState
          title="No collections yet"
          action={<ButtonLink to="/collections/new">Create your first collection</ButtonLink>}
        >
          A collection is a set of folders and files searched together with one embedding model.
        </EmptyState>
      ) : (
        <ul aria-label="Collections" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {collections.data.map((collection) => (
            <li key={collection.id}>
              <CollectionCard
                collection={collection}
                operations={(active.data ?? []).filter((o) => o.collection_id === collection.id)}
              />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function CollectionCard({ collection, operations }: { collection: Collection; operations: Operation[] }) {
  const headingId = `collection-${collection.id}`;
  const role = roleOf(collection);
  return (
    <article
      aria-labelledby={headingId}
      className="flex h-full flex-col rounded-xl border border-gray-200 bg-white p-4 shadow-sm dark:border-gray-800 dark:bg-gray-900"
    >
      <div className="flex items-start justify-between gap-2">
        <h2 id={headingId} className="min-w-0 break-words text-base font-semibold">
          <Link to={`/collections/${collection.id}`} className="hover:underline">
            {collection.name}
          </Link>
        </h2>
        <div className="flex shrink-0 gap-1">
          {role !== "owner" && <StatusBadge status="shared" label={role} />}
          <StatusBadge status={collection.status} />
        </div>
      </div>
      {collection.description && (
        <p className="mt-1 line-clamp-2 text-sm text-gray-600 dark:text-gray-300">{collection.description}</p>
      )}
      <dl className="mt-3 grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
        <dt className="text-gray-600 dark:text-gray-400">Documents</dt>
        <dd>
          {formatCount(collection.document_count)}
          {collection.failed_document_count > 0 && (
            <span className="text-red-700 dark:text-red-300"> ({formatCount(collection.failed_document_count)} failed)</span>
          )}
        </dd>
        <dt className="text-gray-600 dark:text-gray-400">Chunks</dt>
        <dd>{formatCount(collection.chunk_count)}</dd>
        <dt className="text-gray-600 dark:text-gray-400">Model</dt>
        <dd className="truncate" title={collection.embedding_model}>
          {collection.embedding_model}
        </dd>
        <dt className="text-gray-600 dark:text-gray-400">Precision</dt>
        <dd>{collection.precision}</dd>
        <dt className="text-gray-600 dark:text-gray-400">Size</dt>
        <dd>{formatBytes(collection.total_bytes)}</dd>
        <dt className="text-gray-600 dark:text-gray-400">Last indexed</dt>
        <dd>
          <time dateTime={collection.last_indexed_at ?? undefined}>{formatRelative(collection.last_indexed_at)}</time>
        </dd>
      </dl>
      {operations.length > 0 && (
        <div className="mt-3 space-y-3 border-t border-gray-100 pt-3 dark:border-gray-800">
          {operations.map((operation) => (
            <OperationProgress
              key={operation.id}
              operation={operation}
              subject={`of ${collection.name}`}
              canCancel={canWrite(collection)}
            />
          ))}
        </div>
      )}
      <div className="mt-auto flex gap-3 pt-3 text-sm">
        <Link to={`/collections/${collection.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
          Open<span className="sr-only"> {collection.name}</span>
        </Link>
        <Link
          to={`/search?collections=${collection.id}`}
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          Search<span className="sr-only"> {collection.name}</span>
        </Link>
      </div>
    </article>
  );
}
