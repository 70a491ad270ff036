/** One collection: its state and running work, and tabs for sources, documents, operations, settings, sharing. */
import { NavLink, useParams } from "react-router";

import { canWrite, isOwner, roleOf, useCollection } from "../../api/collections";
import { ApiError } from "../../api/errors";
import { useActiveOperationsOf } from "../../api/operations";
import type { CollectionDetail } from "../../api/types";
import { ButtonLink } from "../../components/Button";
import { OperationProgress } from "../../components/OperationProgress";
import { PageHeader, useTitle } from "../../components/PageHeader";
import { EmptyState, ErrorState, Loading } from "../../components/states";
import { StatusBadge } from "../../components/StatusBadge";
import { formatBytes, formatCount, formatRelative } from "../../lib/format";
import { DocumentsTab } from "./DocumentsTab";
import { OperationsTab } from "./OperationsTab";
import { SettingsTab } from "./SettingsTab";
import { SharingTab } from "./SharingTab";
import { SourcesTab } from "./SourcesTab";

interface Tab {
  id: string;
  label: string;
  visible: (collection: CollectionDetail) => boolean;
}

const TABS: Tab[] = [
  { id: "sources", label: "Sources", visible: () => true },
  { id: "documents", label: "Documents", visible: () => true },
  { id: "operations", label: "Operations", visible: () => true },
  { id: "settings", label: "Settings", visible: canWrite },
  { id: "sharing", label: "Sharing", visible: isOwner },
];

export function CollectionPage() {
  const { collectionId = "", tab = "sources" } = useParams();
  const collection = useCollection(collectionId);
  const operations = useActiveOperationsOf(collectionId);
  useTitle(collection.data?.name ?? "Collection");

  if (collection.isPending) return <Loading label="Loading the collection…" />;
  if (collection.isError) {
    if (collection.error instanceof ApiError && collection.error.status === 404) {
      return (
        <EmptyState title="Collection not found" action={<ButtonLink to="/">Back to collections</ButtonLink>}>
          It does not exist, or it is not shared with you.
        </EmptyState>
      );
    }
    return <ErrorState error={collection.error} onRetry={() => void collection.refetch()} />;
  }

  const data = collection.data;
  const tabs = TABS.filter((t) => t.visible(data));
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  const role = roleOf(data);

  return (
    <div>
      <PageHeader
        title={data.name}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <StatusBadge status={data.status} />
            {role !== "owner" && <StatusBadge status="shared" label={`shared with you: ${role}`} />}
            <span>
              {formatCount(data.document_count)} documents · {formatCount(data.chunk_count)} chunks ·{" "}
              {formatBytes(data.total_bytes)} · {data.embedding_model} ({data.precision}) · last indexed{" "}
              {formatRelative(data.last_indexed_at)}
            </span>
          </span>
        }
        actions={
          <ButtonLink to={`/search?collections=${data.id}`} variant="secondary">
            Search this collection
          </ButtonLink>
        }
      />
      {data.description && <p className="-mt-3 mb-5 text-sm text-gray-700 dark:text-gray-300">{data.description}</p>}
      {operations.length > 0 && (
        <section aria-label="Running operations" className="mb-6 space-y-3 rounded-lg border border-indigo-200 bg-indigo-50/50 p-4 dark:border-indigo-900 dark:bg-indigo-950/40">
          {operations.map((operation) => (
            <OperationProgress key={operation.id} operation={operation} canCancel={canWrite(data)} />
          ))}
        </section>
      )}
      <nav aria-label="Collection sections" className="mb-5 flex gap-1 overflow-x-auto border-b border-gray-200 dark:border-gray-800">
        {tabs.map((t) => (
          <NavLink
            key={t.id}
            to={`/collections/${data.id}/${t.id}`}
            aria-current={t.id === current?.id ? "page" : undefined}
            className={`-mb-px whitespace-nowrap border-b-2 px-3 py-2 text-sm font-medium ${
              t.id === current?.id
                ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                : "border-transparent text-gray-700 hover:border-gray-300 dark:text-gray-300"
            }`}
          >
            {t.label}
          </NavLink>
        ))}
      </nav>
      <section aria-label={current?.label}>
        {current?.id === "sources" && <SourcesTab collection={data} />}
        {current?.id === "documents" && <DocumentsTab collection={data} />}
        {current?.id === "operations" && <OperationsTab collection={data} />}
        {current?.id === "settings" && <SettingsTab collection={data} />}
        {current?.id === "sharing" && <SharingTab collection={data} />}
      </section>
    </div>
  );
}
