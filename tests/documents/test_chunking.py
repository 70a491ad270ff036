"""Chunking by tokens."""

from __future__ import annotations

import re

import pytest

from semantik.documents.chunking import chunk_by_tokens


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def test_chunks_are_exact_slices_with_offsets_and_the_requested_overlap() -> None:
    text = " ".join(f"w{i}" for i in range(25))
    chunks = chunk_by_tokens(text, word_spans(text), chunk_size=10, overlap=3)
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text.split()) <= 10
    assert chunks[0].text.split()[-3:] == chunks[1].text.split()[:3]
    assert chunks[-1].text.endswith("w24")


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    assert [c.text for c in chunk_by_tokens("just this", word_spans("just this"), 10, 2)] == ["just this"]
    assert chunk_by_tokens("", [], 10, 2) == []


def test_every_token_lands_in_some_chunk() -> None:
    text = " ".join(f"t{i}" for i in range(101))
    chunks = chunk_by_tokens(text, word_spans(text), chunk_size=16, overlap=4)
    covered = {word for c in chunks for word in c.text.split()}
    assert covered == set(text.split())


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_invalid_settings_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_by_tokens("a b", word_spans("a b"), size, overlap)
