"""The vector store on qdrant-client: a Qdrant server in production, qdrant-client's local mode in CI."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from semantik.vectors.base import (
    DENSE_VECTOR,
    INDEXED_FIELDS,
    SPARSE_VECTOR,
    ChunkPoint,
    CollectionNotFound,
    PointFilter,
    SparseVector,
    VectorHit,
    VectorStoreError,
    VectorStoreUnavailable,
    as_float_list,
    batched,
    check_page,
)


class QdrantClientVectorStore:
    """Collections in whatever a QdrantClient points at: a server, or local mode (memory or a path).

    Local mode is plain Python state (SQLite with a path) and not thread-safe, so its calls are
    serialized here; server calls run concurrently. Local mode searches by brute force and
    ignores payload indexes, so it serves tests, not production.
    """

    _UPSERT_BATCH = 256
    _SCROLL_PAGE = 1024

    def __init__(self, client: QdrantClient, shards: int = 1, replicas: int = 1) -> None:
        """`shards` and `replicas` apply to collections this store creates (a Qdrant cluster uses them)."""
        self._client = client
        self.shards = shards
        self.replicas = replicas
        options = client.init_options
        self._local = options.get("location") == ":memory:" or options.get("path") is not None
        self._guard: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self._local else contextlib.nullcontext()
        )
        where = options.get("url") or options.get("location") or options.get("host") or options.get("path")
        self._where = (
            f"qdrant-client local mode ({where})" if self._local else f"the Qdrant server at {where}"
        )

    @classmethod
    def from_url(
        cls, url: str, api_key: str | None = None, timeout: int = 10, shards: int = 1, replicas: int = 1
    ) -> QdrantClientVectorStore:
        # No compatibility check: it would contact the server while the app starts; ping() does.
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout, check_compatibility=False)
        return cls(client, shards=shards, replicas=replicas)

    @classmethod
    def local(cls, path: str | Path = ":memory:") -> QdrantClientVectorStore:
        if str(path) == ":memory:":
            return cls(QdrantClient(location=":memory:", force_disable_check_same_thread=True))
        try:
            # The SQLite same-thread check is off because every call here is serialized by a lock.
            client = QdrantClient(path=str(path), force_disable_check_same_thread=True)
        except RuntimeError as exc:  # "Storage folder … is already accessed by another instance"
            raise VectorStoreUnavailable(
                f"the Qdrant local-mode directory {path} is already open in another process or client: {exc}"
            ) from exc
        return cls(client)

    def create_collection(self, name: str, dimension: int) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive, got {dimension}")
        with self._guard, self._errors(name):
            if not self._client.collection_exists(name):
                try:
                    self._client.create_collection(
                        name,
                        vectors_config={
                            DENSE_VECTOR: models.VectorParams(size=dimension, distance=models.Distance.COSINE)
                        },
                        sparse_vectors_config={
                            SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)
                        },
                        # Local mode accepts and ignores both.
                        shard_number=self.shards,
                        replication_factor=self.replicas,
                    )
                except (UnexpectedResponse, ValueError):
                    if not self._client.collection_exists(name):
                        raise
                    # Another process created it between the check and the create: fine.
            info = self._client.get_collection(name)
            vectors = info.config.params.vectors
            existing = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
            if existing is None or existing.size != dimension:
                raise VectorStoreError(
                    f"vector collection {name!r} already exists with another configuration: {vectors}"
                )
            if not self._local:  # local mode ignores payload indexes and warns about them
                for field, kind in INDEXED_FIELDS.items():
                    index = info.payload_schema.get(field)
                    if index is not None and _index_kind(index) == kind:
                        continue
                    if index is not None:  # an older kind of index (keyword before prefix)
                        self._client.delete_payload_index(name, field, wait=True)
                    self._client.create_payload_index(name, field, _INDEX_SCHEMAS[kind], wait=True)

    def collection_exists(self, name: str) -> bool:
        with self._guard, self._errors(name):
            return self._client.collection_exists(name)

    def drop_collection(self, name: str) -> None:
        with contextlib.suppress(CollectionNotFound), self._guard, self._errors(name):
            self._client.delete_collection(name)

    def upsert(self, name: str, points: Sequence[ChunkPoint]) -> None:
        with self._guard, self._errors(name):
            if not points and not self._client.collection_exists(name):
                raise CollectionNotFound(name)
            for batch in batched(points, self._UPSERT_BATCH):
                self._client.upsert(name, points=[_point_struct(p) for p in batch], wait=True)

    def delete_documents(self, name: str, document_ids: Sequence[str]) -> None:
        if document_ids:
            self._delete_matching(name, _field_filter("document_id", list(document_ids)))

    def delete_source(self, name: str, source_id: str) -> None:
        self._delete_matching(name, _field_filter("source_id", source_id))

    def search(
        self,
        name: str,
        vector: Sequence[float] | np.ndarray,
        limit: int,
        where: PointFilter | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        return self._query(name, as_float_list(vector), DENSE_VECTOR, limit, where, with_payload=with_payload)

    def keyword_search(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        where: PointFilter | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        query = models.SparseVector(indices=list(vector.indices), values=list(vector.values))
        return self._query(
            name, query, SPARSE_VECTOR, limit, where, nothing_to_find=not vector, with_payload=with_payload
        )

    def retrieve(self, name: str, point_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self._guard, self._errors(name):
            if not point_ids:
                if not self._client.collection_exists(name):
                    raise CollectionNotFound(name)
                return {}
            records = self._client.retrieve(name, ids=list(point_ids), with_payload=True, with_vectors=False)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def count(self, name: str, document_id: str | None = None) -> int:
        with self._guard, self._errors(name):
            return self._client.count(name, count_filter=_document_filter(document_id), exact=True).count

    def point_ids(self, name: str, document_id: str | None = None) -> set[str]:
        ids: set[str] = set()
        offset: Any = None
        with self._guard, self._errors(name):
            while True:
                records, offset = self._client.scroll(
                    name,
                    scroll_filter=_document_filter(document_id),
                    limit=self._SCROLL_PAGE,
                    offset=offset,
                    with_payload=False,
                    with_vectors=False,
                )
                ids.update(str(record.id) for record in records)
                if offset is None:
                    return ids

    def document_chunks(self, name: str, document_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        check_page(offset, limit)
        selection = models.Filter(
            must=[
                models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id)),
                models.FieldCondition(key="chunk_index", range=models.Range(gte=offset, lt=offset + limit)),
            ]
        )
        with self._guard, self._errors(name):
            # At most `limit` points match, so one scroll page holds them all.
            records, _ = self._client.scroll(
                name, scroll_filter=selection, limit=limit, with_payload=True, with_vectors=False
            )
        return sorted((dict(r.payload or {}) for r in records), key=lambda p: p["chunk_index"])

    def ping(self) -> None:
        with self._guard, self._errors(""):
            self._client.get_collections()

    def close(self) -> None:
        with self._guard:
            self._client.close()

    def _query(
        self,
        name: str,
        query: list[float] | models.SparseVector,
        using: str,
        limit: int,
        where: PointFilter | None,
        nothing_to_find: bool = False,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        with self._guard, self._errors(name):
            if nothing_to_find or (where is not None and where.matches_nothing):
                if not self._client.collection_exists(name):
                    raise CollectionNotFound(name)
                return []
            response = self._client.query_points(
                name,
                query=query,
                using=using,
                limit=limit,
                query_filter=_native_filter(where),
                with_payload=with_payload,
                with_vectors=False,
            )
        return [
            VectorHit(id=str(p.id), score=float(p.score), payload=dict(p.payload or {}))
            for p in response.points
        ]

    def _delete_matching(self, name: str, selection: models.Filter) -> None:
        with contextlib.suppress(CollectionNotFound), self._guard, self._errors(name):
            self._client.delete(name, points_selector=models.FilterSelector(filter=selection), wait=True)

    @contextlib.contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        try:
            yield
        except VectorStoreError:
            raise
        except UnexpectedResponse as exc:
            if exc.status_code == 404 and name:
                raise CollectionNotFound(name) from exc
            if exc.status_code is not None and exc.status_code >= 500:
                raise VectorStoreUnavailable(f"{self._where} failed: {exc}") from exc
            raise VectorStoreError(f"{self._where} refused an operation on {name!r}: {exc}") from exc
        except (ResponseHandlingException, httpx.TransportError) as exc:
            raise VectorStoreUnavailable(f"{self._where} is unreachable: {exc}") from exc
        except ValueError as exc:
            # Local mode reports everything, a missing collection included, as ValueError.
            if name and str(exc) == f"Collection {name} not found":
                raise CollectionNotFound(name) from exc
            raise VectorStoreError(f"{self._where} refused an operation on {name!r}: {exc}") from exc


def _point_struct(point: ChunkPoint) -> models.PointStruct:
    vectors: dict[str, Any] = {DENSE_VECTOR: as_float_list(point.vector)}
    if point.sparse:
        vectors[SPARSE_VECTOR] = models.SparseVector(
            indices=list(point.sparse.indices), values=list(point.sparse.values)
        )
    return models.PointStruct(id=point.id, vector=vectors, payload=dict(point.payload))


def _field_filter(field: str, value: str | list[str]) -> models.Filter:
    match: models.MatchAny | models.MatchValue = (
        models.MatchAny(any=value) if isinstance(value, list) else models.MatchValue(value=value)
    )
    return models.Filter(must=[models.FieldCondition(key=field, match=match)])


def _document_filter(document_id: str | None) -> models.Filter | None:
    return None if document_id is None else _field_filter("document_id", document_id)


_INDEX_SCHEMAS: dict[str, Any] = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "prefix": models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, prefix=True),
    "float": models.PayloadSchemaType.FLOAT,
}


def _index_kind(index: models.PayloadIndexInfo) -> str:
    """The INDEXED_FIELDS kind of an existing payload index."""
    if index.data_type == models.PayloadSchemaType.FLOAT:
        return "float"
    if index.data_type == models.PayloadSchemaType.KEYWORD:
        return "prefix" if getattr(index.params, "prefix", None) else "keyword"
    return str(index.data_type)


def _native_filter(where: PointFilter | None) -> models.Filter | None:
    """Qdrant's filter for `where`: conditions on indexed payload fields, all of which must hold."""
    if where is None:
        return None
    must: list[models.Condition] = []
    if where.document_ids is not None:
        must.append(
            models.FieldCondition(key="document_id", match=models.MatchAny(any=list(where.document_ids)))
        )
    if where.paths is not None:
        must.append(models.FieldCondition(key="path", match=models.MatchAny(any=list(where.paths))))
    if where.path_prefix:
        must.append(models.FieldCondition(key="path", match=models.MatchPrefix(prefix=where.path_prefix)))
    must += [
        models.FieldCondition(key="path", match=models.MatchSubstring(substring=part))
        for part in where.path_substrings
    ]
    if where.has_mime_condition:
        kinds: list[models.Condition] = [
            models.FieldCondition(key="mime_type", match=models.MatchPrefix(prefix=prefix))
            for prefix in where.mime_prefixes
        ]
        if where.mime_types:
            kinds.append(
                models.FieldCondition(key="mime_type", match=models.MatchAny(any=list(where.mime_types)))
            )
        must.append(models.Filter(should=kinds))
    if where.modified_from is not None or where.modified_before is not None:
        must.append(
            models.FieldCondition(
                key="mtime", range=models.Range(gte=where.modified_from, lt=where.modified_before)
            )
        )
    return models.Filter(must=must) if must else None
