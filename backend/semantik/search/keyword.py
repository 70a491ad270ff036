"""Keyword search's text analysis: text to stemmed terms, terms to BM25 sparse vectors.

Indexing and querying run the same analysis, so a query term matches a chunk term exactly when
both come from the same word. Qdrant multiplies each stored weight by the term's IDF over the
collection (the sparse vector's IDF modifier), so a chunk's score for a query is

    sum over the query's terms t of  IDF(t) * tf(t)·(K1 + 1) / (tf(t) + K1·(1 − B + B·len / AVERAGE_LENGTH))

which is BM25. Only this module decides what a term is; changing the analysis changes every
stored vector, so a collection must be reindexed after such a change.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Set
from itertools import chain

import Stemmer

from semantik.vectors.base import SparseVector

# BM25's usual parameters: term-frequency saturation and how much chunk length discounts it.
K1 = 1.2
B = 0.75
# Words (after stop words) in an average chunk, used for BM25's length normalisation. A constant,
# not the collection's measured mean, so a stored vector never depends on what else was indexed
# (no rewrite of old points as a collection grows). Measured on chunks of the default 200 model
# tokens: 78 such words in English prose, 61 in Python source. Chunks are windows of a fixed token
# count, so lengths vary little within a collection and the constant mostly rescales all scores
# alike; it matters for a document's short last chunk, which it does not over-reward.
AVERAGE_LENGTH = 75.0

# Longer "words" are hashes, base64 or minified code: never searched for, only noise.
MAX_TERM_LENGTH = 64

# Lucene's English stop words plus pronouns and auxiliaries: words that occur in nearly every
# chunk carry no signal and only make vectors longer. Negations ("no", "not") are kept.
STOP_WORDS = frozenset(
    """
    a an and are as at be been being but by can could did do does for from had has have he her
    hers him his how i if in into is it its itself me my of on or our ours she should so such than
    that the their theirs them then there these they this those to us was we were what when where
    which who whom why will with would you your yours
    """.split()  # noqa: SIM905 (a word list reads better as words)
)

# A word, or a code identifier joined by ".", "_" (part of \w) or "::": os.path.join, get_embedder,
# std::vector. Apostrophes inside a word stay (don't, user's) and the stemmer handles them.
_WORD = re.compile(r"\w+(?:(?:\.|::|['’])\w+)*")
_PATH_SEPARATORS = re.compile(r"\.|::")
# camelCase or PascalCase with a lower/upper change inside, HTTPServer (an upper run then a word);
# not "URLs" or "IDs", which are plural acronyms.
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Z]{2}[a-z]{2}")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z0-9]+")
_DOTTED_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)+$")

_stemmers = threading.local()  # a PyStemmer object must not be shared between threads


def terms(text: str) -> list[str]:
    """The terms of `text`, in order and with repeats: what keyword search matches on.

    Lowercased (Unicode case folding after NFKC), split on whitespace and punctuation, stop words
    dropped, English words stemmed (searching, searches -> search). A code identifier is kept
    whole (lowercased, not stemmed) and also split into its stemmed parts: get_embedder ->
    get_embedder, get, embedd; QdrantClient -> qdrantclient, qdrant, client; os.path.join ->
    os.path.join, os, path, join; a dotted path's names count as identifiers too:
    QdrantClient.close -> qdrantclient.close, qdrantclient, qdrant, client, close. Numbers such
    as 3.14 and 1.2.3 stay whole.
    """
    return [term for word in _words(text) for term in _word_terms(word)]


def term_index(term: str) -> int:
    """A term's index in the sparse vector: CRC-32 of its UTF-8 bytes, the same on every machine.

    Two different terms with the same CRC-32 become one term: a query for either then also finds
    chunks holding the other, and they share one IDF. With 2**32 indices a collision between a
    given query term and anything in a vocabulary of a million terms has a chance of about 1 in
    4000, and it only adds a few weak hits; nothing is lost.
    """
    return zlib.crc32(term.encode("utf-8"))


def document_vector(text: str) -> SparseVector:
    """A chunk's keyword vector: each term's BM25 term-frequency weight (IDF comes from Qdrant)."""
    by_word = [indices for indices in map(_word_indices, _words(text)) if indices]
    if not by_word:
        return SparseVector((), ())
    counts = Counter(chain.from_iterable(by_word))
    # A word counts once toward the length, however many terms (identifier parts) it gives.
    norm = K1 * (1 - B + B * len(by_word) / AVERAGE_LENGTH)
    weights = {tf: tf * (K1 + 1) / (tf + norm) for tf in set(counts.values())}
    indices = tuple(sorted(counts))
    return SparseVector(indices, tuple(weights[counts[i]] for i in indices))


def query_vector(text: str) -> SparseVector:
    """A query's keyword vector: each distinct term once, with weight 1."""
    indices = sorted({index for word in _words(text) for index in _word_indices(word)})
    return SparseVector(tuple(indices), (1.0,) * len(indices))


def highlights(
    text: str, query_terms: Set[str], seen: dict[str, bool] | None = None
) -> list[tuple[int, int]]:
    """Where `text` holds the query's terms: [start, end) character offsets of each matching word.

    A word matches when its analysis shares a term with the query's (`terms(query)`), so a query
    for "searching" marks "searches", and one for "embedder" marks the whole "get_embedder".
    Offsets index the text as given (Unicode code points), in order, never overlapping. `seen`
    remembers each word's answer for this query, to be shared by the texts of one result page.
    """
    if not query_terms:
        return []
    seen = {} if seen is None else seen
    # Most text is NFKC already: then a word is its own normal form.
    normal = unicodedata.is_normalized("NFKC", text)
    spans = []
    for match in _WORD.finditer(text):
        word = match.group()
        found = seen.get(word)
        if found is None:
            analysed = _word_terms(word if normal else unicodedata.normalize("NFKC", word))
            found = seen[word] = not query_terms.isdisjoint(analysed)
        if found:
            spans.append(match.span())
    return spans


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=100_000)
def _word_indices(word: str) -> tuple[int, ...]:
    # Words repeat (Zipf), so caching by the raw word makes the common case one dictionary lookup.
    return tuple(term_index(term) for term in _word_terms(word))


@functools.lru_cache(maxsize=100_000)
def _word_terms(word: str) -> tuple[str, ...]:
    word = word.replace("’", "'")
    whole = word.casefold()
    if len(whole) > MAX_TERM_LENGTH or not any(ch.isalnum() for ch in whole):
        return ()
    if _DOTTED_NUMBER.match(whole):
        return (whole,)
    names = [name for name in _PATH_SEPARATORS.split(word) if name]
    if len(names) > 1:
        # A dotted path: whole, then each name as if alone, so `self.get_embedder` is found by
        # `get_embedder` as well as by `embedder`.
        return (whole, *(term for name in names for term in _name_terms(name)))
    return _name_terms(word)


def _name_terms(name: str) -> tuple[str, ...]:
    whole = name.casefold()
    pieces = [piece for piece in name.split("_") if piece]
    if pieces == [name] and not (name.isascii() and _CAMEL.search(name)):
        return () if whole in STOP_WORDS else (_stem(whole),)
    # An identifier: whole, then its parts, so both `get_embedder` and `embedder` find it.
    parts = [
        part.casefold()
        for piece in pieces
        for part in (_CAMEL_PART.findall(piece) if piece.isascii() and _CAMEL.search(piece) else [piece])
    ]
    return (whole, *(_stem(part) for part in parts if part not in STOP_WORDS))


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return str(stemmer.stemWord(word))
