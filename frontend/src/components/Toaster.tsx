/** Toasts: completions and failures announced to screen readers, dismissed after a while or by hand. */
import { useEffect } from "react";

import { useUiStore, type Toast } from "../stores/ui";

const TOAST_MS = 7000;

const TONES: Record<Toast["kind"], string> = {
  success: "border-green-300 dark:border-green-800",
  error: "border-red-300 dark:border-red-800",
  info: "border-gray-300 dark:border-gray-700",
};

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = useUiStore((state) => state.dismiss);
  useEffect(() => {
    const timer = setTimeout(() => dismiss(toast.id), toast.kind === "error" ? TOAST_MS * 2 : TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast.id, toast.kind, dismiss]);
  return (
    <li
      className={`pointer-events-auto flex items-start gap-3 rounded-lg border-l-4 bg-white p-3 shadow-lg dark:bg-gray-800 ${TONES[toast.kind]}`}
    >
      <div className="min-w-0 flex-1 text-sm">
        <p className="font-medium text-gray-900 dark:text-gray-100">{toast.title}</p>
        {toast.body && <p className="mt-0.5 break-words text-gray-700 dark:text-gray-300">{toast.body}</p>}
      </div>
      <button
        type="button"
        onClick={() => dismiss(toast.id)}
        aria-label={`Dismiss: ${toast.title}`}
        className="rounded px-1 text-gray-500 hover:text-gray-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-400 dark:hover:text-gray-100"
      >
        ×
      </button>
    </li>
  );
}

export function Toaster() {
  const toasts = useUiStore((state) => state.toasts);
  const errors = toasts.filter((t) => t.kind === "error");
  const others = toasts.filter((t) => t.kind !== "error");
  return (
    <div className="pointer-events-none fixed inset-x-0 bottom-0 z-50 flex flex-col items-center gap-2 p-4 sm:items-end">
      <ul aria-live="assertive" aria-label="Errors" className="flex w-full max-w-sm flex-col gap-2">
        {errors.map((toast) => (
          <ToastItem key={toast.id} toast={toast} />
        ))}
      </ul>
      <ul role="status" aria-label="Notifications" className="flex w-full max-w-sm flex-col gap-2">
        {others.map((toast) => (
          <ToastItem key={toast.id} toast={toast} />
        ))}
      </ul>
    </div>
  );
}
