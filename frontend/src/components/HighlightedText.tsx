/** Text with ranges marked: search hits' terms, a preview's chunk. */
import { segments, type Range } from "../lib/highlight";

export function HighlightedText({ text, ranges, className }: { text: string; ranges: readonly Range[]; className?: string }) {
  return (
    <span className={className}>
      {segments(text, ranges).map((segment, index) =>
        segment.highlighted ? (
          <mark key={index} className="rounded-sm bg-yellow-200 px-0.5 text-inherit dark:bg-yellow-600/60 dark:text-white">
            {segment.text}
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </span>
  );
}
