/** Character ranges to highlight in a text: the server's `highlights`, or the query's terms found here. */

export type Range = readonly [number, number];

export interface Segment {
  text: string;
  highlighted: boolean;
}

/** Ranges clamped to the text, empty ones dropped, sorted, overlapping and touching ones merged. */
export function normaliseRanges(ranges: readonly Range[], length: number): [number, number][] {
  const clamped = ranges
    .map(([start, end]) => [Math.max(0, Math.min(start, length)), Math.max(0, Math.min(end, length))] as const)
    .filter(([start, end]) => Number.isFinite(start) && Number.isFinite(end) && end > start)
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of clamped) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The text cut into plain and highlighted segments, in order; their texts join back to `text`. */
export function segments(text: string, ranges: readonly Range[]): Segment[] {
  const out: Segment[] = [];
  let cursor = 0;
  for (const [start, end] of normaliseRanges(ranges, text.length)) {
    if (start > cursor) out.push({ text: text.slice(cursor, start), highlighted: false });
    out.push({ text: text.slice(start, end), highlighted: true });
    cursor = end;
  }
  if (cursor < text.length || out.length === 0) out.push({ text: text.slice(cursor), highlighted: false });
  return out;
}

const STOP_WORDS = new Set(
  "a an and are as at be but by for from has have how i in is it its of on or that the this to was what when where which who why will with do does did can you your".split(
    " ",
  ),
);
const WORD = /[\p{L}\p{N}_]+/gu;
const SUFFIXES = ["ing", "ies", "es", "ed", "s"];

/** A term's stem for prefix matching: "searches" finds "search", "searching"; "prune" finds "pruning". */
function stem(term: string): string {
  for (const suffix of SUFFIXES) {
    if (term.length - suffix.length >= 4 && term.endsWith(suffix)) return term.slice(0, -suffix.length);
  }
  return term.length >= 5 && term.endsWith("e") ? term.slice(0, -1) : term;
}

export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const match of query.toLocaleLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (word.length < 2 || STOP_WORDS.has(word)) continue;
    terms.add(stem(word));
    // Identifiers: get_embedder also matches get and embedder on their own.
    for (const part of word.split("_")) if (part.length >= 3 && !STOP_WORDS.has(part)) terms.add(stem(part));
  }
  return [...terms];
}

/**
 * Where the query's terms occur in `text`: whole words that start with a term's stem, ignoring
 * case. The fallback when the server sends no `highlights`.
 */
export function termRanges(text: string, query: string): [number, number][] {
  const terms = queryTerms(query);
  if (terms.length === 0) return [];
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLocaleLowerCase();
    const start = match.index;
    if (terms.some((term) => word.startsWith(term))) {
      ranges.push([start, start + match[0].length]);
      continue;
    }
    // Parts of an identifier: "embedder" inside "get_embedder".
    let offset = 0;
    for (const part of word.split("_")) {
      if (part && terms.some((term) => part.startsWith(term))) ranges.push([start + offset, start + offset + part.length]);
      offset += part.length + 1;
    }
  }
  return normaliseRanges(ranges, text.length);
}
