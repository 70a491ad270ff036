"""Chunking: fixed token windows, and recursive chunks that follow headings, paragraphs and sentences."""

from __future__ import annotations

import random
import re
import time
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

import pytest

from semantik.documents.chunking import Chunk, chunk, chunk_by_tokens
from semantik.documents.extraction import Heading, extract
from semantik.inference.tokenization import ModelTokenizer

# --- fixed windows over any spans ---------------------------------------------------------------


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def test_chunks_are_exact_slices_with_offsets_and_the_requested_overlap() -> None:
    text = " ".join(f"w{i}" for i in range(25))
    chunks = chunk_by_tokens(text, word_spans(text), chunk_size=10, overlap=3)
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert len(c.text.split()) == c.tokens <= 10
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
@pytest.mark.parametrize("strategy", ["fixed", "recursive"])
def test_invalid_settings_are_refused(size: int, overlap: int, strategy: str) -> None:
    with pytest.raises(ValueError):
        chunk("a b", word_spans("a b"), strategy=strategy, chunk_size=size, overlap=overlap)


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="semantic"):
        chunk("a b", word_spans("a b"), strategy="semantic", chunk_size=10, overlap=0)


# --- with the real MiniLM tokenizer -------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer(model_repository: Path) -> ModelTokenizer:
    return ModelTokenizer(model_repository / "all-minilm-l6-v2")


def chunked(
    tokenizer: ModelTokenizer,
    text: str,
    size: int,
    overlap: int = 0,
    headings: tuple[Heading, ...] = (),
    strategy: str = "recursive",
) -> list[Chunk]:
    chunks = chunk(
        text,
        tokenizer.token_spans(text),
        strategy=strategy,
        chunk_size=size,
        overlap=overlap,
        headings=headings,
    )
    for number, c in enumerate(chunks):
        assert c.index == number
        assert c.text == text[c.start : c.end]
    return chunks


def sentence(rng: random.Random, words: int) -> str:
    vocabulary = ["harbour", "boat", "tide", "anchor", "sail", "rope", "wind", "chart", "keel", "mast"]
    return " ".join(rng.choice(vocabulary) for _ in range(words)).capitalize() + "."


def prose(seed: int, paragraphs: int, sentences: tuple[int, int] = (1, 6)) -> str:
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(sentence(rng, rng.randint(3, 18)) for _ in range(rng.randint(*sentences)))
        for _ in range(paragraphs)
    )


@pytest.mark.parametrize(("size", "overlap"), [(16, 0), (32, 8), (64, 16), (128, 0), (254, 32)])
def test_no_chunk_holds_more_tokens_than_the_chunk_size(tokenizer, size, overlap) -> None:  # type: ignore[no-untyped-def]
    text = prose(seed=size, paragraphs=40)
    chunks = chunked(tokenizer, text, size, overlap)
    assert len(chunks) > 1
    for c in chunks:
        assert c.text == c.text.strip()
        # Counted again from scratch by the model's tokenizer, not only from the whole text's spans.
        assert tokenizer.count_tokens(c.text) == c.tokens <= size


def test_paragraphs_that_fit_are_never_cut(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = prose(seed=1, paragraphs=30, sentences=(1, 3))
    paragraphs = [m.span() for m in re.finditer(r"[^\n]+", text)]
    assert all(tokenizer.count_tokens(text[a:b]) <= 64 for a, b in paragraphs)
    for overlap in (0, 12):
        chunks = chunked(tokenizer, text, 64, overlap)
        for a, b in paragraphs:
            assert any(c.start <= a and b <= c.end for c in chunks), text[a:b]
        # Without overlap, chunks end exactly where paragraphs do.
        if overlap == 0:
            assert {c.end for c in chunks} <= {b for _, b in paragraphs}


def test_a_paragraph_too_big_for_a_chunk_is_cut_between_sentences(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = prose(seed=2, paragraphs=1, sentences=(30, 30))
    chunks = chunked(tokenizer, text, 48)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.endswith(".") and c.text[0].isupper(), c.text


def test_lines_without_sentence_ends_are_cut_at_line_ends(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(f"- item {i} goes with rope and anchor" for i in range(60))
    for c in chunked(tokenizer, text, 40):
        assert c.text.startswith("- item") and c.text.endswith("anchor")


def test_one_giant_line_is_cut_between_words(tokenizer) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    text = " ".join(rng.choice(["north", "south", "east", "west", "tack"]) for _ in range(3000))
    chunks = chunked(tokenizer, text, 50)
    assert len(chunks) >= 60
    for c in chunks:
        assert c.start == 0 or text[c.start - 1] == " "
        assert c.end == len(text) or text[c.end] == " "
        assert tokenizer.count_tokens(c.text) <= 50


def test_a_word_longer_than_a_chunk_is_cut_into_back_to_back_token_windows(tokenizer) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(4)
    # Punctuation makes tokens of its own: BERT reads an unbroken run of over 100 letters as one [UNK].
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(3000))
    text = f"Before it.\n\n{word}\n\nAfter it."
    chunks = chunked(tokenizer, text, 32)
    assert chunks[0].text == "Before it."
    # Back to back, nothing between them; the last window shares its chunk with what follows.
    assert "".join(c.text for c in chunks[1:]) == text[text.index(word) :]
    assert len(chunks) > 50 and all(c.tokens <= 32 for c in chunks)


def test_overlap_repeats_about_that_many_tokens_of_the_previous_chunk(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = prose(seed=5, paragraphs=12, sentences=(4, 8))
    chunks = chunked(tokenizer, text, 64, overlap=16)
    repeated = []
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert previous.start < following.start < previous.end, "each chunk overlaps the one before"
        shared = tokenizer.count_tokens(text[following.start : previous.end])
        assert 0 < shared <= 16
        repeated.append(shared)
    # About 16: at a sentence start when that keeps half of it, else at a word.
    assert sum(repeated) / len(repeated) >= 8


def test_overlap_of_a_giant_word_repeats_its_last_tokens(tokenizer) -> None:  # type: ignore[no-untyped-def]
    word = "x" + "ab/" * 500
    chunks = chunked(tokenizer, word, 32, overlap=8)
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert previous.start < following.start < previous.end
    assert all(c.tokens <= 32 for c in chunks)


MARKDOWN = """Intro before any heading.

# Tutorial

## Data structures

### Lists

{lists}

### Tuples

{tuples}

## Control flow

{flow}

# Reference

{reference}
"""


def markdown(seed: int) -> str:
    rng = random.Random(seed)
    parts = {
        key: "\n\n".join(
            " ".join(sentence(rng, rng.randint(4, 14)) for _ in range(rng.randint(2, 5)))
            for _ in range(rng.randint(2, 6))
        )
        for key in ("lists", "tuples", "flow", "reference")
    }
    return MARKDOWN.format(**parts)


def test_no_chunk_crosses_a_heading_and_each_carries_its_heading_path(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = markdown(seed=6)
    extracted = extract(text.encode(), "tutorial.md")
    chunks = chunked(tokenizer, text, 48, overlap=12, headings=extracted.headings)
    sections = {
        ("Tutorial", "Data structures", "Lists"): (text.index("# Tutorial"), text.index("### Tuples")),
        ("Tutorial", "Data structures", "Tuples"): (text.index("### Tuples"), text.index("## Control")),
        ("Tutorial", "Control flow"): (text.index("## Control"), text.index("# Reference")),
        ("Reference",): (text.index("# Reference"), len(text)),
        (): (0, text.index("# Tutorial")),
    }
    assert {c.heading_path for c in chunks} == set(sections)
    for c in chunks:
        start, end = sections[c.heading_path]
        assert start <= c.start and c.end <= end, (c.heading_path, c.text)
    # A bare title ("# Tutorial", "## Data structures") is no chunk: it leads its first subsection.
    first = next(c for c in chunks if c.heading_path[-1:] == ("Lists",))
    assert first.text.startswith("# Tutorial\n\n## Data structures\n\n### Lists\n\n")
    assert [c.text for c in chunks if c.heading_path == ()] == ["Intro before any heading."]


def test_a_bare_title_before_a_sibling_stays_a_chunk_of_its_own(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = "## Empty\n\n## Full\n\nSome words here."
    chunks = chunked(tokenizer, text, 32, headings=extract(text.encode(), "a.md").headings)
    assert [(c.text, c.heading_path) for c in chunks] == [
        ("## Empty", ("Empty",)),
        ("## Full\n\nSome words here.", ("Full",)),
    ]


def test_restructuredtext_html_and_docx_headings_give_paths(tokenizer) -> None:  # type: ignore[no-untyped-def]
    import io

    import docx

    rst = "=====\nGuide\n=====\n\nSailing\n=======\n\nKnots\n-----\n\nA bowline holds.\n\n"
    rst += "Rowing\n======\n\nPull.\n"
    html = (
        "<html><body><main><h1>Guide</h1><h2>Sailing</h2><h3>Knots</h3><p>A bowline holds.</p>"
        "<h2>Rowing</h2><p>Pull.</p></main></body></html>"
    )
    document = docx.Document()
    document.add_heading("Guide", level=1)
    document.add_heading("Sailing", level=2)
    document.add_heading("Knots", level=3)
    document.add_paragraph("A bowline holds.")
    document.add_heading("Rowing", level=2)
    document.add_paragraph("Pull.")
    out = io.BytesIO()
    document.save(out)
    for data, name in [
        (rst.encode(), "guide.rst"),
        (html.encode(), "guide.html"),
        (out.getvalue(), "g.docx"),
    ]:
        extracted = extract(data, name)
        chunks = chunked(tokenizer, extracted.text, 64, headings=extracted.headings)
        paths = {c.heading_path: c.text for c in chunks}
        assert set(paths) == {("Guide", "Sailing", "Knots"), ("Guide", "Rowing")}, name
        assert paths["Guide", "Sailing", "Knots"].endswith("A bowline holds."), name
        assert paths["Guide", "Rowing"].endswith("Pull."), name


def test_fixed_strategy_is_windows_of_tokens_whatever_the_structure(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = markdown(seed=7)
    spans = tokenizer.token_spans(text)
    headings = extract(text.encode(), "t.md").headings
    chunks = chunked(tokenizer, text, 40, overlap=10, headings=headings, strategy="fixed")
    assert [(c.start, c.end, c.tokens) for c in chunks] == [
        (spans[first][0], spans[min(first + 40, len(spans)) - 1][1], min(40, len(spans) - first))
        for first in range(0, len(spans) - 10, 30)
    ]
    # The path is the one where a window starts.
    reference = text.index("# Reference")
    assert all(c.heading_path == ("Reference",) for c in chunks if c.start >= reference)


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n", "\u3000\n"])
@pytest.mark.parametrize("strategy", ["fixed", "recursive"])
def test_empty_and_whitespace_only_text_gives_no_chunks(tokenizer, text, strategy) -> None:  # type: ignore[no-untyped-def]
    assert chunked(tokenizer, text, 32, strategy=strategy) == []


PIECES = [
    "word", "Sentence.", "Why?", "Yes!", "(aside)", "“quoted.”", "e.g.", "3.14", "naïve", "東京は大きい。",
    "🙂", "https://example.com/a/b?c=d", "x" * 300, "\n", "\n\n", "\n\n\n", "  ", "\t", "# Title", "## Sub",
    "-----", "- item", "```", "<tag>", "don't", "co-operate", "\u200b",
]  # fmt: skip


def test_no_token_of_any_text_is_lost_between_chunks(tokenizer) -> None:  # type: ignore[no-untyped-def]
    for seed in range(60):
        rng = random.Random(seed)
        text = "".join(
            rng.choice(PIECES) + rng.choice([" ", " ", "", "\n"]) for _ in range(rng.randint(0, 400))
        )
        size = rng.choice([16, 24, 50, 128])
        overlap = rng.choice([0, 0, 4, size // 2])
        found = extract(text.encode(), "random.md").headings if text.strip() else ()
        spans = tokenizer.token_spans(text)
        for strategy in ("recursive", "fixed"):
            chunks = chunked(tokenizer, text, size, overlap, found, strategy)
            assert all(0 < c.tokens <= size for c in chunks), seed
            assert all(c.text == c.text.strip() for c in chunks), seed
            starts = [c.start for c in chunks]
            assert starts == sorted(starts), seed
            # The furthest end of the chunks starting at or before each token's start.
            reach = list(accumulate((c.end for c in chunks), max))
            for token_start, token_end in spans:
                before = bisect_right(starts, token_start) - 1
                assert before >= 0 and reach[before] >= token_end, (
                    seed,
                    strategy,
                    text[token_start:token_end],
                )


def test_chunking_a_large_text_takes_linear_time(tokenizer) -> None:  # type: ignore[no-untyped-def]
    small, large = prose(seed=8, paragraphs=200), prose(seed=8, paragraphs=2000)
    timings = []
    for text in (small, large):
        spans = tokenizer.token_spans(text)
        began = time.perf_counter()
        chunk(text, spans, strategy="recursive", chunk_size=128, overlap=16)
        timings.append(time.perf_counter() - began)
    # Ten times the text: well under a hundred times the time (generous for a busy machine).
    assert timings[1] < max(30 * timings[0], 0.5)
