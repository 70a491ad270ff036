/** A status as a coloured pill whose text says it (colour is never the only signal). */
const TONES = {
  green: "bg-green-100 text-green-800 dark:bg-green-900/60 dark:text-green-200",
  blue: "bg-blue-100 text-blue-800 dark:bg-blue-900/60 dark:text-blue-200",
  amber: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
  red: "bg-red-100 text-red-800 dark:bg-red-900/60 dark:text-red-200",
  gray: "bg-gray-100 text-gray-800 dark:bg-gray-800 dark:text-gray-200",
} as const;

const STATUS_TONES: Record<string, keyof typeof TONES> = {
  ready: "green",
  indexed: "green",
  completed: "green",
  indexing: "blue",
  processing: "blue",
  pending: "amber",
  failed: "red",
  error: "red",
  cancelled: "gray",
  empty: "gray",
};

const LABELS: Record<string, string> = { pending: "pending", processing: "running" };

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  const tone = TONES[STATUS_TONES[status] ?? "gray"];
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ${tone}`}>
      {label ?? LABELS[status] ?? status}
    </span>
  );
}
