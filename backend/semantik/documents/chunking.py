"""Chunking by the collection model's own tokens, keeping each chunk's character offsets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int
    end: int


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
        chunks.append(Chunk(index=len(chunks), text=text[start:end], start=start, end=end))
        if last == len(spans) - 1:
            break
        first += step
    return chunks
