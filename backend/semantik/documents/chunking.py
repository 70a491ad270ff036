"""Chunking by the collection model's own tokens, keeping each chunk's character offsets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Two tokens of the model's window are taken by the [CLS]/[SEP] style markers.
SPECIAL_TOKENS = 2


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
