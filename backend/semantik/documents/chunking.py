"""Chunking by the collection model's own tokens: by the text's structure or in fixed windows.

Every chunk is an exact slice of the extracted text with its character offsets, so search can
highlight and preview the place, and holds at most `chunk_size` of the model's tokens. Tokens are
counted from the spans the tokenizer gave for the whole text, never by tokenizing again.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from semantik.documents.extraction import Heading

# Two tokens of the model's window are taken by the [CLS]/[SEP] style markers.
SPECIAL_TOKENS = 2

# Sections at headings, then paragraphs, sentences, lines, words; token windows for what is left.
RECURSIVE = "recursive"
# Windows of chunk_size tokens, whatever the text's structure.
FIXED = "fixed"
STRATEGIES = (RECURSIVE, FIXED)

# Where a text may be cut, coarsest first. Every break is whitespace (or nothing), so what lies
# between two chunks is never a token.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+|(?<=[。！？])\s*"
_SENTENCE_BREAK = re.compile(_SENTENCE_END)
_LINE_BREAK = re.compile(r"\n")
_WORD_BREAK = re.compile(r"\s+")
_BREAKS = (_PARAGRAPH_BREAK, _SENTENCE_BREAK, _LINE_BREAK, _WORD_BREAK)
# Where an overlap would rather start: a sentence or a line.
_OVERLAP_BREAK = re.compile(_SENTENCE_END + r"|\n\s*")
_NON_WORD = re.compile(r"[\W_]+")
_NOT_SPACE = re.compile(r"\S")


def chunking_errors(model_name: str, max_length: int, chunk_size: int, overlap: int) -> dict[str, list[str]]:
    """Why a chunking cannot work with a model, by field; empty when it can."""
    limit = max_length - SPECIAL_TOKENS
    if chunk_size > limit:
        return {"chunk_size": [f"{model_name} reads at most {limit} tokens per chunk; got {chunk_size}."]}
    if overlap >= chunk_size:
        return {"chunk_overlap": ["must be smaller than chunk_size."]}
    return {}


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int
    end: int
    # The model's tokens in text[start:end], counted from the whole text's token spans.
    tokens: int
    # Titles of the headings the chunk sits under, outermost first.
    heading_path: tuple[str, ...] = ()


def chunk(
    text: str,
    spans: Sequence[tuple[int, int]],
    *,
    strategy: str,
    chunk_size: int,
    overlap: int,
    headings: Sequence[Heading] = (),
) -> list[Chunk]:
    """The chunks of `text` whose tokens have the character `spans` (special tokens excluded)."""
    if chunk_size <= 0 or not 0 <= overlap < chunk_size:
        raise ValueError(f"Invalid chunking: size {chunk_size}, overlap {overlap}")
    sections = _sections(text, headings)
    if strategy == FIXED:
        starts = [start for start, _, _ in sections]
        return [
            Chunk(c.index, c.text, c.start, c.end, c.tokens, sections[bisect_right(starts, c.start) - 1][2])
            for c in chunk_by_tokens(text, spans, chunk_size, overlap)
        ]
    if strategy == RECURSIVE:
        return _RecursiveChunker(text, spans, chunk_size, overlap).chunks(sections)
    raise ValueError(f"Unknown chunking strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")


def chunk_by_tokens(
    text: str, spans: Sequence[tuple[int, int]], chunk_size: int, overlap: int
) -> list[Chunk]:
    """Windows of `chunk_size` tokens, each starting `chunk_size - overlap` tokens after the last.

    `spans` are the character offsets of the text's tokens (without special tokens), so a chunk
    is an exact slice of the text and never holds more tokens than the model reads.
    """
    if chunk_size <= 0 or not 0 <= overlap < chunk_size:
        raise ValueError(f"Invalid chunking: size {chunk_size}, overlap {overlap}")
    chunks: list[Chunk] = []
    step = chunk_size - overlap
    first = 0
    while first < len(spans):
        last = min(first + chunk_size, len(spans)) - 1
        start, end = spans[first][0], spans[last][1]
        chunks.append(
            Chunk(index=len(chunks), text=text[start:end], start=start, end=end, tokens=last - first + 1)
        )
        if last == len(spans) - 1:
            break
        first += step
    return chunks


Section = tuple[int, int, tuple[str, ...]]


def _sections(text: str, headings: Sequence[Heading]) -> list[Section]:
    """(start, end, heading path) of the text before the first heading and under each heading.

    A section holding nothing but its heading joins the deeper section that follows it ("# Guide"
    right before "## Install"), so a bare title never makes a chunk of its own.
    """
    found = sorted((h for h in headings if 0 <= h.offset < len(text) and h.title), key=lambda h: h.offset)
    sections: list[Section] = [(0, found[0].offset if found else len(text), ())]
    stack: list[Heading] = []
    carried: int | None = None
    for i, heading in enumerate(found):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        end = found[i + 1].offset if i + 1 < len(found) else len(text)
        if (
            i + 1 < len(found)
            and found[i + 1].level > heading.level
            and _holds_only(text, heading.offset, end, heading.title)
        ):
            carried = heading.offset if carried is None else carried
            continue
        sections.append((heading.offset if carried is None else carried, end, tuple(h.title for h in stack)))
        carried = None
    return sections


def _holds_only(text: str, start: int, end: int, title: str) -> bool:
    """Whether text[start:end] is the heading itself and nothing more (markup and spaces aside)."""
    if end - start > 4 * len(title) + 64:
        return False
    return _NON_WORD.sub("", text[start:end]) == _NON_WORD.sub("", title)


class _RecursiveChunker:
    """Packs the units of each section (paragraphs, else their sentences, lines, words or token
    windows) greedily into chunks of at most `size` tokens, repeating about `overlap` tokens."""

    def __init__(self, text: str, spans: Sequence[tuple[int, int]], size: int, overlap: int) -> None:
        self.text = text
        self.size = size
        self.overlap = overlap
        self.starts = [start for start, _ in spans]
        # Never decreasing, so bisect holds even for tokenizers whose spans overlap.
        self.ends = list(accumulate((end for _, end in spans), max))

    def count(self, start: int, end: int) -> int:
        """Tokens overlapping text[start:end]."""
        return max(0, bisect_left(self.starts, end) - bisect_right(self.ends, start))

    def chunks(self, sections: list[Section]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for start, end, path in sections:
            for chunk_start, chunk_end in self._pack(start, end):
                tokens = self.count(chunk_start, chunk_end)
                if tokens:
                    text = self.text[chunk_start:chunk_end]
                    chunks.append(Chunk(len(chunks), text, chunk_start, chunk_end, tokens, path))
        return chunks

    def _pack(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        current: tuple[int, int] | None = None
        for unit_start, unit_end in self._units(*self._strip(start, end), level=0):
            if current is None:
                current = (unit_start, unit_end)
            elif self.count(current[0], unit_end) <= self.size:
                current = (current[0], unit_end)
            else:
                yield current
                current = (self._overlap_start(*current, unit_start, unit_end), unit_end)
        if current is not None:
            yield current

    def _units(self, start: int, end: int, level: int) -> Iterator[tuple[int, int]]:
        """Pieces of text[start:end] in order, each of at most `size` tokens, cut as coarsely as may be."""
        if start >= end:
            return
        if self.count(start, end) <= self.size:
            yield start, end
        elif level == len(_BREAKS):
            yield from self._token_windows(start, end)
        else:
            piece_start = start
            for cut in _BREAKS[level].finditer(self.text, start, end):
                yield from self._units(*self._strip(piece_start, cut.start()), level=level + 1)
                piece_start = cut.end()
            yield from self._units(*self._strip(piece_start, end), level=level + 1)

    def _token_windows(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Back-to-back windows over a stretch with no whitespace to cut at, each `overlap` tokens
        short of `size`, so the chunk holding the next one has room to repeat the last one's end."""
        width = self.size - self.overlap
        while self.count(start, end) > width:
            first = bisect_right(self.ends, start)
            last = first + width - 1
            while last > first and self.count(start, self.ends[last]) > width:
                last -= 1
            yield start, self.ends[last]
            start = self.ends[last]
        yield start, end

    def _overlap_start(self, start: int, end: int, next_start: int, next_end: int) -> int:
        """Where the chunk after text[start:end] starts so that it repeats about `overlap` of its
        last tokens: at a sentence or line if that keeps at least half of them, else at a word,
        else at a token. `next_start` when nothing can be repeated."""
        if not self.overlap:
            return next_start
        stop = bisect_left(self.starts, end)
        # Within the overlap, after the previous chunk's first token, and leaving room for the unit.
        lowest = max(
            stop - self.overlap,
            bisect_right(self.ends, start) + 1,
            bisect_left(self.starts, next_end) - self.size,
        )
        if lowest >= stop:
            return next_start
        floor = self.starts[lowest]
        candidate = self._break_after(_OVERLAP_BREAK, start, floor, end)
        if candidate is None or self.count(candidate, end) < self.overlap // 2:
            candidate = self._break_after(_WORD_BREAK, start, floor, end)
        if candidate is None:
            candidate = floor
        if self.count(candidate, next_end) > self.size:
            return next_start
        return candidate

    def _break_after(self, pattern: re.Pattern[str], start: int, floor: int, end: int) -> int | None:
        """The first position in [floor, end) where a piece after a `pattern` break starts."""
        search_from = floor
        while search_from > start and self.text[search_from - 1].isspace():
            search_from -= 1
        for cut in pattern.finditer(self.text, search_from, end):
            if floor <= cut.end() < end:
                return cut.end()
        return None

    def _strip(self, start: int, end: int) -> tuple[int, int]:
        """The range without its leading and trailing whitespace (empty when it is all whitespace)."""
        first = _NOT_SPACE.search(self.text, start, end)
        if first is None:
            return start, start
        start = first.start()
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end
