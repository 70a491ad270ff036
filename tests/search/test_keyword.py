"""Keyword analysis: what a term is, and the BM25 sparse vectors of chunks and queries."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from semantik.search.keyword import (
    AVERAGE_LENGTH,
    K1,
    MAX_TERM_LENGTH,
    B,
    document_vector,
    highlights,
    query_vector,
    term_index,
    terms,
)
from semantik.vectors.base import SparseVector


def test_words_are_lowercased_split_on_punctuation_and_stemmed() -> None:
    assert terms("Searching, SEARCHES; searched!") == ["search", "search", "search"]
    assert terms("roses—pruned (lightly)") == ["rose", "prune", "light"]


def test_stop_words_are_dropped_but_negations_kept() -> None:
    assert terms("The whale is in the sea") == ["whale", "sea"]
    assert terms("not a whale, no sea") == ["not", "whale", "no", "sea"]
    assert terms("the of and to") == []


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("get_embedder", ["get_embedder", "get", "embedd"]),
        ("QdrantClient", ["qdrantclient", "qdrant", "client"]),
        ("os.path.join", ["os.path.join", "os", "path", "join"]),
        ("HTTPServer", ["httpserver", "http", "server"]),
        ("getHTTPResponse", ["gethttpresponse", "get", "http", "respons"]),
        ("std::vector", ["std::vector", "std", "vector"]),
        ("__init__", ["__init__", "init"]),
        ("MAX_FILE_BYTES", ["max_file_bytes", "max", "file", "byte"]),
        ("self.get_embedder", ["self.get_embedder", "self", "get_embedder", "get", "embedd"]),
        ("QdrantClient.close", ["qdrantclient.close", "qdrantclient", "qdrant", "client", "close"]),
    ],
)
def test_code_identifiers_are_kept_whole_and_split_into_their_parts(
    identifier: str, expected: list[str]
) -> None:
    assert terms(identifier) == expected


def test_a_prose_query_finds_the_parts_of_an_identifier() -> None:
    assert set(terms("embedders")) <= set(terms("def get_embedder(name):"))
    assert "get_embedder" not in terms("get the embedder")


def test_plural_acronyms_and_capitalised_words_are_plain_words() -> None:
    assert terms("URLs IDs Apple NASA") == ["url", "id", "appl", "nasa"]


def test_numbers_and_versions_stay_whole() -> None:
    assert terms("pi is 3.14 in version 1.2.3") == ["pi", "3.14", "version", "1.2.3"]


def test_unicode_text_is_case_folded_and_normalised() -> None:
    assert terms("STRASSE Straße") == ["strass", "strass"]
    assert terms("ÜBER über") == ["über", "über"]
    assert terms("ﬁle ＦＩＬＥ") == ["file", "file"]  # ligature and full-width forms (NFKC)
    assert terms("Ελληνικά κείμενα") == ["ελληνικά", "κείμενα"]


def test_very_long_tokens_are_ignored() -> None:
    blob = "x" * (MAX_TERM_LENGTH + 1)
    assert terms(f"hash {blob} end") == ["hash", "end"]


def test_term_indices_are_stable_32_bit_numbers() -> None:
    # CRC-32: fixed here so that a change (which would orphan every stored vector) fails loudly.
    assert term_index("whale") == 3469149253
    assert term_index("get_embedder") == 1867156251
    assert all(0 <= term_index(t) < 2**32 for t in ["", "a", "über", "x" * 100])


def test_term_indices_do_not_depend_on_the_process() -> None:
    # Python's own hash() is salted per process; the index must not be.
    code = "from semantik.search.keyword import term_index; print(term_index('qdrantclient'))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert outputs == {f"{term_index('qdrantclient')}\n"}


def bm25(tf: int, length: int) -> float:
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / AVERAGE_LENGTH))


def weights_by_term(vector: SparseVector) -> dict[int, float]:
    return dict(zip(vector.indices, vector.values, strict=True))


def test_a_document_vector_holds_bm25_term_frequency_weights() -> None:
    vector = document_vector("The whale sings; the whale dives. Krill!")

    # Words after stop words: whale, sings, whale, dives, krill → length 5.
    assert weights_by_term(vector) == pytest.approx(
        {
            term_index("whale"): bm25(2, 5),
            term_index("sing"): bm25(1, 5),
            term_index("dive"): bm25(1, 5),
            term_index("krill"): bm25(1, 5),
        }
    )
    assert list(vector.indices) == sorted(vector.indices)


def test_term_frequency_saturates_and_longer_chunks_weigh_each_term_less() -> None:
    def whale_weight(text: str) -> float:
        return weights_by_term(document_vector(text))[term_index("whale")]

    # Ten words each, so only the term frequency changes.
    one, two, three = (whale_weight("whale " * n + "krill " * (10 - n)) for n in (1, 2, 3))
    assert one < two < three < K1 + 1
    assert two - one > three - two  # the second occurrence adds more than the third

    short = whale_weight("whale krill")
    long = whale_weight("whale krill " + "plankton " * 200)
    assert long < short


def test_an_identifier_counts_once_toward_the_chunk_length() -> None:
    vector = weights_by_term(document_vector("call get_embedder now"))
    # Three words (call, get_embedder, now), five terms.
    assert vector[term_index("get_embedder")] == pytest.approx(bm25(1, 3))
    assert len(vector) == 5


def test_a_query_vector_holds_each_distinct_term_once_with_weight_one() -> None:
    vector = query_vector("whale WHALES and the whale's song")

    assert weights_by_term(vector) == {term_index("whale"): 1.0, term_index("song"): 1.0}


def test_a_query_matches_the_terms_of_the_chunk_that_holds_its_words() -> None:
    chunk = document_vector("Before you restart, call QdrantClient.close() on the client.")
    query = query_vector("qdrantclient")

    assert set(query.indices) <= set(chunk.indices)


def test_text_without_terms_gives_empty_vectors() -> None:
    for text in ["", "   ", "the and of", "!!! ---"]:
        assert document_vector(text) == SparseVector((), ())
        assert not query_vector(text)


def test_analysis_is_safe_from_many_threads() -> None:
    texts = [f"thread {n} searches QdrantClient get_embedder running" for n in range(8)]
    expected = [document_vector(t) for t in texts]
    results: dict[int, list[SparseVector]] = {}

    def work(n: int) -> None:
        results[n] = [document_vector(texts[n]) for _ in range(200)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(results[n] == [expected[n]] * 200 for n in range(8))


def test_sparse_vectors_refuse_malformed_input() -> None:
    with pytest.raises(ValueError):
        SparseVector((1, 2), (1.0,))
    with pytest.raises(ValueError):
        SparseVector((1, 1), (1.0, 2.0))
    with pytest.raises(ValueError):
        SparseVector((2**32,), (1.0,))


def marked(text: str, query: str) -> list[str]:
    return [text[start:end] for start, end in highlights(text, set(terms(query)))]


def test_highlights_mark_the_words_that_match_a_query_term_with_the_same_analysis() -> None:
    text = "Searching the index: get_embedder() searches QdrantClient.close, not the Embedder."
    # Stemmed and case-folded like keyword search: "search" marks Searching and searches.
    assert marked(text, "search") == ["Searching", "searches"]
    # An identifier's part marks the whole identifier; stop words mark nothing.
    assert marked(text, "the embedder") == ["get_embedder", "Embedder"]
    assert marked(text, "close") == ["QdrantClient.close"]
    # As in keyword search, an identifier in the query also matches its parts.
    assert marked(text, "get_embedder") == ["get_embedder", "Embedder"]
    assert marked(text, "the of and") == []


def test_highlights_are_ordered_character_offsets_into_the_text_as_given() -> None:
    text = "ﬁle names: Ｆｉｌｅ and file."  # a ligature and full-width letters fold to "file"
    spans = highlights(text, set(terms("files")))
    assert [text[start:end] for start, end in spans] == ["ﬁle", "Ｆｉｌｅ", "file"]
    assert spans == sorted(spans)
    assert all(end <= start2 for (_, end), (start2, _) in zip(spans, spans[1:], strict=False))
