/** Operations as a list: what ran, how it ended, its counters and error; live progress while it runs. */
import type { Operation } from "../api/types";
import { isActive } from "../live/cache";
import { operationLabel } from "../live/events";
import { formatCount, formatDateTime } from "../lib/format";
import { OperationProgress } from "./OperationProgress";
import { StatusBadge } from "./StatusBadge";

export function OperationList({
  operations,
  collectionName,
  canCancel,
}: {
  operations: Operation[];
  /** Shown when the list spans collections. */
  collectionName?: (id: string) => string | undefined;
  canCancel: (operation: Operation) => boolean;
}) {
  return (
    <ul aria-label="Operations" className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
      {operations.map((operation) => {
        const name = collectionName?.(operation.collection_id);
        return (
          <li key={operation.id} className="space-y-2 p-3">
            <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
              <span className="font-medium">{operationLabel(operation.type)}</span>
              {name && <span className="text-gray-700 dark:text-gray-300">{name}</span>}
              <StatusBadge status={operation.status} />
              <span className="text-gray-600 dark:text-gray-400">
                <time dateTime={operation.created_at}>{formatDateTime(operation.created_at)}</time>
              </span>
            </div>
            {isActive(operation) ? (
              <OperationProgress operation={operation} canCancel={canCancel(operation)} />
            ) : (
              <p className="text-sm text-gray-700 dark:text-gray-300">
                {formatCount(operation.files_processed)} processed · {formatCount(operation.files_skipped)} unchanged ·{" "}
                {formatCount(operation.files_failed)} failed · {formatCount(operation.chunks_written)} chunks
                {operation.finished_at && (
                  <>
                    {" "}
                    · finished <time dateTime={operation.finished_at}>{formatDateTime(operation.finished_at)}</time>
                  </>
                )}
              </p>
            )}
            {operation.error && (
              <p className="break-words text-sm text-red-700 dark:text-red-300">
                <span className="font-medium">Error:</span> {operation.error}
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}
