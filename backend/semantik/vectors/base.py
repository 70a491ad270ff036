"""The vector store interface every Qdrant adapter implements, its data types and its errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

# Vector names inside a Qdrant collection. The sparse one is declared at creation (empty until the
# keyword index fills it) because a server cannot add a new sparse vector to an existing collection.
DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"

# Payload fields that filters use, and the index each gets where the engine has them: "keyword"
# (exact values), "prefix" (a keyword index that also serves prefix and substring matches) or
# "float" (ranges).
INDEXED_FIELDS: dict[str, str] = {
    "document_id": "keyword",
    "source_id": "keyword",
    "path": "prefix",
    "mime_type": "keyword",
    "mtime": "float",
}

_T = TypeVar("_T")


class VectorStoreError(Exception):
    """The vector store refused or failed an operation."""


class VectorStoreUnavailable(VectorStoreError):
    """The vector store cannot be reached or opened (server down, data directory held by another process)."""


class CollectionNotFound(VectorStoreError):
    """The named vector collection does not exist."""

    def __init__(self, name: str) -> None:
        super().__init__(f"vector collection {name!r} does not exist")
        self.name = name


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: unique term indices (unsigned 32-bit) and their weights, index-aligned."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError(f"{len(self.indices)} indices but {len(self.values)} values")
        if len(set(self.indices)) != len(self.indices):
            raise ValueError("sparse vector indices must be unique")
        if self.indices and (min(self.indices) < 0 or max(self.indices) >= 2**32):
            raise ValueError("sparse vector indices must be unsigned 32-bit integers")

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass(frozen=True)
class PointFilter:
    """Which points a search may return: every condition given must hold; None leaves it out.

    Paths are the payload's relative `path`, compared byte-wise and case-sensitively. An empty
    tuple (no document ids, no paths, no mime types) matches nothing. `mime_types` and
    `mime_prefixes` together form one condition: the point's type is one of the first or starts
    with one of the second. The modification time (`mtime`, seconds since the epoch) must lie in
    [modified_from, modified_before).
    """

    document_ids: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    path_prefix: str | None = None
    path_substrings: tuple[str, ...] = ()
    mime_types: tuple[str, ...] | None = None
    mime_prefixes: tuple[str, ...] = ()
    modified_from: float | None = None
    modified_before: float | None = None

    @property
    def matches_nothing(self) -> bool:
        no_type = self.mime_types == () and not self.mime_prefixes
        return self.document_ids == () or self.paths == () or no_type

    @property
    def has_mime_condition(self) -> bool:
        return self.mime_types is not None or bool(self.mime_prefixes)


@dataclass(frozen=True)
class ChunkPoint:
    """One chunk's embedding, its keyword vector and the payload search results show.

    Payload keys the app writes: document_id (uuid str), source_id, path, chunk_index, text,
    start, end, page, heading_path (list of str), mime_type, mtime. `sparse` is the chunk's BM25
    term weights (search/keyword.py); a point without one (None or no terms) is simply never found
    by keyword search.
    """

    id: str
    vector: Sequence[float] | np.ndarray
    payload: dict[str, Any]
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class VectorHit:
    id: str
    score: float
    payload: dict[str, Any]


@runtime_checkable
class VectorStore(Protocol):
    """Qdrant collections of chunk embeddings, whichever engine holds them.

    Every adapter is safe to share between threads, and behaves the same: the test suite in
    tests/vectors/test_stores.py runs against each of them.
    """

    def create_collection(self, name: str, dimension: int) -> None:
        """Create `name` (cosine dense vector "dense", sparse "sparse" with IDF, payload indexes).

        Does nothing if it exists with this dimension; raises VectorStoreError if it exists with
        another one.
        """
        ...

    def collection_exists(self, name: str) -> bool: ...

    def drop_collection(self, name: str) -> None:
        """Delete `name` and its points; does nothing if it does not exist."""
        ...

    def upsert(self, name: str, points: Sequence[ChunkPoint]) -> None:
        """Insert or overwrite points by id; durable when it returns. Batches internally."""
        ...

    def delete_documents(self, name: str, document_ids: Sequence[str]) -> None:
        """Delete every point of these documents; does nothing on a missing collection."""
        ...

    def delete_source(self, name: str, source_id: str) -> None:
        """Delete every point of this source; does nothing on a missing collection."""
        ...

    def search(
        self,
        name: str,
        vector: Sequence[float] | np.ndarray,
        limit: int,
        where: PointFilter | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        """The `limit` nearest points, best first, scored by cosine similarity.

        `where` restricts the search inside the engine (payload indexes), before ranking.
        Without `with_payload` the hits' payloads are empty: `retrieve` reads those needed later.
        """
        ...

    def keyword_search(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        where: PointFilter | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        """The `limit` best points by sparse dot product with `vector`, best first.

        Each stored weight is multiplied by the term's IDF over the collection (the sparse vector's
        IDF modifier), so with BM25 document weights and query weights of 1 the score is BM25.
        An empty `vector` finds nothing; `where` and `with_payload` are as in `search`.
        """
        ...

    def retrieve(self, name: str, point_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The payloads of those of `point_ids` that exist, by id, in one call."""
        ...

    def count(self, name: str, document_id: str | None = None) -> int:
        """Exact number of points, of one document or of the whole collection."""
        ...

    def point_ids(self, name: str, document_id: str | None = None) -> set[str]:
        """Every point id, of one document or of the whole collection."""
        ...

    def document_chunks(self, name: str, document_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        """The payloads of one document's chunks `offset` to `offset + limit - 1`, by chunk_index.

        A document's chunk indexes run from 0 without gaps, so this reads one page of its chunks.
        """
        ...

    def ping(self) -> None:
        """Return if the store is usable; raise VectorStoreUnavailable saying why not."""
        ...

    def close(self) -> None: ...


def as_float_list(vector: Sequence[float] | np.ndarray) -> list[float]:
    """A plain list of floats: what both Qdrant bindings accept without surprises."""
    if isinstance(vector, np.ndarray):
        if vector.ndim != 1:
            raise ValueError(f"expected a 1-D vector, got shape {vector.shape}")
        return list(vector.astype(float, copy=False).tolist())
    return [float(x) for x in vector]


def check_page(offset: int, limit: int) -> None:
    if offset < 0 or limit < 1:
        raise ValueError(f"a page needs offset >= 0 and limit >= 1, got offset={offset}, limit={limit}")


def batched(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
