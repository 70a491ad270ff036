/** A running operation: what it does, a progress bar, files done of total, rate, time left, cancel. */
import { errorMessage } from "../api/errors";
import { useCancelOperation } from "../api/operations";
import type { Operation } from "../api/types";
import { operationLabel } from "../live/events";
import { formatCount, formatDuration, formatRate } from "../lib/format";
import { notify } from "../stores/ui";
import { Button } from "./Button";

export function operationDone(operation: Operation): number {
  return operation.files_processed + operation.files_skipped + operation.files_failed;
}

export function OperationProgress({
  operation,
  subject,
  canCancel = false,
}: {
  operation: Operation;
  subject?: string;
  canCancel?: boolean;
}) {
  const cancel = useCancelOperation();
  const done = operationDone(operation);
  const total = operation.files_total;
  const queued = operation.status === "pending";
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : null;
  const label = `${operationLabel(operation.type)}${subject ? ` ${subject}` : ""}`;
  const details = [
    queued ? "queued" : total > 0 ? `${formatCount(done)} / ${formatCount(total)} files` : "scanning",
    operation.files_per_s ? formatRate(operation.files_per_s) : null,
    operation.eta_s !== null && operation.eta_s > 0 ? `about ${formatDuration(operation.eta_s)} left` : null,
    operation.files_failed > 0 ? `${formatCount(operation.files_failed)} failed` : null,
    operation.cancel_requested ? "cancelling…" : null,
  ].filter(Boolean);

  return (
    <div className="space-y-1.5">
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 text-sm">
        <span className="font-medium text-gray-900 dark:text-gray-100">{label}</span>
        <span className="text-gray-600 dark:text-gray-300">{details.join(" · ")}</span>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={details.join(", ")}
        className="h-2 overflow-hidden rounded-full bg-gray-200 dark:bg-gray-700"
      >
        <div
          className={`h-full rounded-full bg-indigo-600 transition-[width] duration-500 dark:bg-indigo-400 ${percent === null ? "w-1/3 animate-pulse" : ""}`}
          style={percent === null ? undefined : { width: `${percent}%` }}
        />
      </div>
      <div className="flex items-center justify-between gap-2">
        <p className="min-w-0 truncate text-xs text-gray-600 dark:text-gray-400" title={operation.current_file}>
          {operation.current_file || "\u00a0"}
        </p>
        {canCancel && !operation.cancel_requested && (
          <Button
            variant="ghost"
            size="sm"
            busy={cancel.isPending}
            aria-label={`Cancel ${label}`}
            onClick={() =>
              cancel.mutate(operation.id, {
                onError: (error) => notify({ kind: "error", title: "Could not cancel", body: errorMessage(error) }),
              })
            }
          >
            Cancel
          </Button>
        )}
      </div>
    </div>
  );
}
