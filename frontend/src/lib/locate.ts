/**
 * Finding a chunk in a rendered document and marking it. Chunk offsets point into the extracted
 * text, not the rendered DOM, so the chunk's text is looked for in the DOM's text nodes instead:
 * both are reduced to their letters and digits (lower case), which drops whitespace, punctuation
 * and the Markdown syntax that rendering removes, and each kept character remembers the text node
 * and offset it came from.
 */
import { termRanges } from "./highlight";
import { PLACEHOLDER_ATTRIBUTE } from "./rendering";

/** Letters and digits, in lower case: what a passage and its rendering have in common. */
const WORD_RUN = /[\p{L}\p{N}]+/gu;
const PUNCTUATION = /^[\p{P}\p{S}]$/u;

export interface FlatText {
  /** The letters and digits of the text nodes, lower case, in document order. */
  text: string;
  /** The text nodes, in document order (those with no letters too: a marked range spans them). */
  nodes: Text[];
  /** For each code unit of `text`: its node's index, and the start and end of its character there. */
  node: number[];
  start: number[];
  end: number[];
}

/** One text node's part of a found passage. */
export interface TextSlice {
  node: Text;
  start: number;
  end: number;
}

function inPlaceholder(node: Node): boolean {
  return node.parentElement?.closest(`[${PLACEHOLDER_ATTRIBUTE}]`) != null;
}

/** The letters and digits of `root`'s text (not of the preview's own stand-ins), mapped back to their nodes. */
export function flattenText(root: Node): FlatText {
  const flat: FlatText = { text: "", nodes: [], node: [], start: [], end: [] };
  const parts: string[] = [];
  const document = root.ownerDocument ?? (root as Document);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let current = walker.nextNode(); current; current = walker.nextNode()) {
    const node = current as Text;
    if (inPlaceholder(node)) continue;
    const index = flat.nodes.push(node) - 1;
    const value = node.data;
    for (const match of value.matchAll(WORD_RUN)) {
      const run = match[0];
      const lower = run.toLowerCase();
      if (lower.length === run.length) {
        // The usual case: lower-casing keeps each code unit where it was.
        for (let i = 0; i < run.length; i += 1) {
          flat.node.push(index);
          flat.start.push(match.index + i);
          flat.end.push(match.index + i + 1);
        }
        parts.push(lower);
        continue;
      }
      // A character whose lower case is longer ("İ"): each unit of it maps to the whole character.
      let offset = match.index;
      for (const character of run) {
        const lowered = character.toLowerCase();
        for (let i = 0; i < lowered.length; i += 1) {
          flat.node.push(index);
          flat.start.push(offset);
          flat.end.push(offset + character.length);
        }
        parts.push(lowered);
        offset += character.length;
      }
    }
  }
  flat.text = parts.join("");
  return flat;
}

/** A string reduced like flattenText reduces the DOM. */
export function normaliseText(text: string): string {
  return [...text.toLowerCase().matchAll(WORD_RUN)].map((m) => m[0]).join("");
}

function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

function nearest(positions: readonly number[], target: number): number | null {
  let best: number | null = null;
  for (const position of positions) if (best === null || Math.abs(position - target) < Math.abs(best - target)) best = position;
  return best;
}

/** Normalised characters an anchor holds: long enough to be rare, short enough to fit between differences. */
const ANCHOR = 24;
const ANCHOR_STEP = 8;

/**
 * Where `needle` lies in `haystack` (both normalised), as [start, end): the occurrence nearest to
 * `hint` (a fraction of the haystack: where the chunk sits in the extracted text). When the whole
 * needle does not occur (a link's address in the chunk, a page's navigation the extracted text left
 * out), a run of it near its start and one near its end that occur in order, about as far apart as
 * in the needle, give the span from the first to the last. Else null.
 */
export function findPassage(haystack: string, needle: string, hint = 0): [number, number] | null {
  if (!needle || !haystack) return null;
  const target = Math.max(0, Math.min(1, hint)) * haystack.length;
  const exact = nearest(occurrences(haystack, needle), target);
  if (exact !== null) return [exact, exact + needle.length];
  if (needle.length < 2 * ANCHOR) return null;
  // Look for anchors within the needle's first and last quarters.
  const reach = Math.floor(needle.length / 4);
  for (let head = 0; head <= reach; head += ANCHOR_STEP) {
    const starts = occurrences(haystack, needle.slice(head, head + ANCHOR));
    if (starts.length === 0) continue;
    for (let tail = 0; tail <= reach; tail += ANCHOR_STEP) {
      const anchorEnd = needle.length - tail;
      const ends = occurrences(haystack, needle.slice(anchorEnd - ANCHOR, anchorEnd)).map((at) => at + ANCHOR);
      const expected = anchorEnd - head;
      const spans = starts.flatMap((start) =>
        ends.filter((end) => end - start >= expected / 2 && end - start <= expected * 2 + 200).map((end) => [start, end] as const),
      );
      if (spans.length === 0) continue;
      const best = nearest(
        spans.map(([start]) => start),
        target,
      );
      const span = spans.find(([start]) => start === best);
      if (span) return [span[0], span[1]];
    }
  }
  return null;
}

/** The text-node slices (whitespace-only ones left out) that normalised characters [from, to) of `flat` cover. */
export function slicesOf(flat: FlatText, from: number, to: number): TextSlice[] {
  const first = flat.node[from];
  const last = flat.node[to - 1];
  let startOffset = flat.start[from];
  let endOffset = flat.end[to - 1];
  if (first === undefined || last === undefined || startOffset === undefined || endOffset === undefined) return [];
  // Punctuation touching the passage's ends belongs to it: the full stop after its last word.
  const firstText = flat.nodes[first]?.data ?? "";
  while (startOffset > 0 && PUNCTUATION.test(firstText.charAt(startOffset - 1))) startOffset -= 1;
  const lastText = flat.nodes[last]?.data ?? "";
  while (endOffset < lastText.length && PUNCTUATION.test(lastText.charAt(endOffset))) endOffset += 1;
  const slices: TextSlice[] = [];
  for (let index = first; index <= last; index += 1) {
    const node = flat.nodes[index];
    if (!node) continue;
    const start = index === first ? startOffset : 0;
    const end = index === last ? endOffset : node.data.length;
    if (end > start && node.data.slice(start, end).trim()) slices.push({ node, start, end });
  }
  return slices;
}

/**
 * The slices of `root`'s text that hold `passage`, or null when it cannot be found. `passage` is
 * plain text, or the DOM the passage renders to (a Markdown chunk rendered on its own, so its
 * syntax goes as the document's did).
 */
export function locatePassage(root: Node, passage: string | Node, hint = 0): TextSlice[] | null {
  const needle = typeof passage === "string" ? normaliseText(passage) : flattenText(passage).text;
  const flat = flattenText(root);
  const found = findPassage(flat.text, needle, hint);
  if (!found) return null;
  const slices = slicesOf(flat, found[0], found[1]);
  return slices.length > 0 ? slices : null;
}

export const PASSAGE_CLASS =
  "rounded-sm bg-amber-100 text-inherit outline-none ring-amber-300 box-decoration-clone focus:ring-2 focus:ring-indigo-500 dark:bg-amber-900/50 dark:ring-amber-700";
export const TERM_CLASS = "rounded-sm bg-yellow-200 px-0.5 text-inherit dark:bg-yellow-600/60 dark:text-white";

/**
 * Wraps each slice in a <mark> (one per text node: a mark cannot span elements), with the query's
 * terms marked again inside, and returns the marks in document order.
 */
export function markSlices(slices: readonly TextSlice[], query = ""): HTMLElement[] {
  return slices.map(({ node, start, end }) => {
    const document = node.ownerDocument;
    const inside = node.splitText(start);
    inside.splitText(end - start);
    const mark = document.createElement("mark");
    mark.className = PASSAGE_CLASS;
    mark.dataset.passage = "";
    const text = inside.data;
    let cursor = 0;
    for (const [from, to] of query ? termRanges(text, query) : []) {
      if (from > cursor) mark.append(text.slice(cursor, from));
      const term = document.createElement("mark");
      term.className = TERM_CLASS;
      term.textContent = text.slice(from, to);
      mark.append(term);
      cursor = to;
    }
    if (cursor < text.length) mark.append(text.slice(cursor));
    inside.replaceWith(mark);
    return mark;
  });
}
