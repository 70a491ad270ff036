"""The embedded vector store: the real Qdrant engine in-process (qdrant-edge), one shard per collection."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    KeywordIndexParams,
    MatchAny,
    MatchPrefix,
    MatchSubstring,
    MatchValue,
    Modifier,
    PayloadSchemaType,
    Point,
    Query,
    QueryRequest,
    RangeFloat,
    ScrollRequest,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

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

# A collection name becomes a directory name, so it must not be able to leave `path`.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")
_CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create: its presence marks a finished shard
_LOCK_FILE = ".lock"
_TRASH_PREFIX = ".trash-"


class EdgeVectorStore:
    """Collections as qdrant-edge shards in `path/<name>`, opened on first use and kept open.

    One instance per process, shared by all threads: edge shards are thread-safe and release the
    GIL while they search and write, so only opening, creating and dropping shards take the lock.
    Only one process may open `path`; a lock file makes a second one fail with a clear message.

    Searches run on unindexed segments (exact, ~6 ms at 100k × 384). HNSW is built only by
    `optimize`, which this class never calls on its own: see its docstring.
    """

    _UPSERT_BATCH = 512
    _SCROLL_PAGE = 1024

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._shards: dict[str, EdgeShard] = {}
        self._lock_file: IO[str] | None = None
        self._owner_pid: int | None = None

    def create_collection(self, name: str, dimension: int) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive, got {dimension}")
        directory = self._directory(name)
        with self._lock:
            self._claim_directory()
            if (directory / _CONFIG_FILE).exists():
                shard = self._shard(name)
                self._check_dimension(name, shard, dimension)
            else:
                # A directory without a config is a creation that died before returning: it holds
                # nothing anyone was told was stored, and EdgeShard.create refuses to reuse it.
                shutil.rmtree(directory, ignore_errors=True)
                config = EdgeConfig(
                    vectors={DENSE_VECTOR: EdgeVectorParams(size=dimension, distance=Distance.Cosine)},
                    sparse_vectors={SPARSE_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf)},
                    # The WAL stays on: its file lock is what stops a second process from opening
                    # the shard; without it a second opener corrupts the first one's flushes.
                    wal_enabled=True,
                )
                with self._edge_errors(name):
                    shard = EdgeShard.create(str(directory), config)
                self._shards[name] = shard
            with self._edge_errors(name):
                indexed = shard.info().payload_schema
                for field, kind in INDEXED_FIELDS.items():
                    existing = indexed.get(field)
                    if existing is not None and _index_kind(existing) == kind:
                        continue
                    if existing is not None:  # an older kind of index (keyword before prefix)
                        shard.update(UpdateOperation.delete_field_index(field))
                    shard.update(UpdateOperation.create_field_index(field, _INDEX_SCHEMAS[kind]()))
                shard.flush()

    def collection_exists(self, name: str) -> bool:
        with self._lock:
            self._claim_directory()
            return (self._directory(name) / _CONFIG_FILE).exists()

    def drop_collection(self, name: str) -> None:
        directory = self._directory(name)
        with self._lock:
            self._claim_directory()
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            if directory.exists():
                # Renaming first makes the drop atomic: a crash mid-delete leaves trash, not a
                # half-deleted shard that still looks like a collection.
                trash = self.path / f"{_TRASH_PREFIX}{name}-{uuid.uuid4().hex}"
                directory.rename(trash)
                shutil.rmtree(trash, ignore_errors=True)

    def upsert(self, name: str, points: Sequence[ChunkPoint]) -> None:
        shard = self._shard(name)
        with self._edge_errors(name):
            for batch in batched(points, self._UPSERT_BATCH):
                shard.update(UpdateOperation.upsert_points([_edge_point(p) for p in batch]))
            # The WAL alone already survives a killed process (measured); flushing writes the
            # segments too, so an acknowledged upsert does not depend on replaying the WAL.
            shard.flush()

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
    ) -> list[VectorHit]:
        return self._query(name, Query.Nearest(as_float_list(vector), using=DENSE_VECTOR), limit, where)

    def keyword_search(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        where: PointFilter | None = None,
    ) -> list[VectorHit]:
        query = Query.Nearest(
            EdgeSparseVector(list(vector.indices), list(vector.values)), using=SPARSE_VECTOR
        )
        return self._query(name, query, limit, where, nothing_to_find=not vector)

    def retrieve(self, name: str, point_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        shard = self._shard(name)
        if not point_ids:
            return {}
        with self._edge_errors(name):
            records = shard.retrieve(list(point_ids), True, False)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def count(self, name: str, document_id: str | None = None) -> int:
        shard = self._shard(name)
        with self._edge_errors(name):
            return shard.count(CountRequest(exact=True, filter=_document_filter(document_id)))

    def point_ids(self, name: str, document_id: str | None = None) -> set[str]:
        shard = self._shard(name)
        ids: set[str] = set()
        offset = None
        with self._edge_errors(name):
            while True:
                records, offset = shard.scroll(
                    ScrollRequest(
                        offset=offset,
                        limit=self._SCROLL_PAGE,
                        filter=_document_filter(document_id),
                        with_payload=False,
                        with_vector=False,
                    )
                )
                ids.update(str(record.id) for record in records)
                if offset is None:
                    return ids

    def document_chunks(self, name: str, document_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        check_page(offset, limit)
        shard = self._shard(name)
        selection = Filter(
            must=[
                FieldCondition("document_id", match=MatchValue(document_id)),
                FieldCondition("chunk_index", range=RangeFloat(gte=offset, lt=offset + limit)),
            ]
        )
        with self._edge_errors(name):
            # At most `limit` points match, so one scroll page holds them all.
            records, _ = shard.scroll(
                ScrollRequest(limit=limit, filter=selection, with_payload=True, with_vector=False)
            )
        return sorted((dict(r.payload or {}) for r in records), key=lambda p: p["chunk_index"])

    def optimize(self, name: str) -> bool:
        """Build the HNSW and quantization indexes of `name` now; True if anything was rebuilt.

        qdrant-edge 0.9 holds the GIL for the whole build (measured: 14 s for 30k × 384 on two
        cores, during which no other Python thread ran), so calling this inside the web process
        freezes every request. Only segments past the indexing threshold are indexed at all.
        """
        shard = self._shard(name)
        with self._edge_errors(name):
            changed = shard.optimize()
            shard.flush()
        return changed

    def ping(self) -> None:
        with self._lock:
            self._claim_directory()
        if not os.access(self.path, os.W_OK):
            raise VectorStoreUnavailable(f"the Qdrant data directory {self.path} is not writable")

    def close(self) -> None:
        with self._lock:
            shards, self._shards = self._shards, {}
            for shard in shards.values():
                with contextlib.suppress(Exception):
                    shard.flush()
                shard.close()
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
                self._lock_file = None
                self._owner_pid = None

    def _shard(self, name: str) -> EdgeShard:
        directory = self._directory(name)
        with self._lock:
            self._claim_directory()
            shard = self._shards.get(name)
            if shard is None:
                if not (directory / _CONFIG_FILE).exists():
                    raise CollectionNotFound(name)
                with self._edge_errors(name):
                    shard = EdgeShard.load(str(directory))
                self._shards[name] = shard
            return shard

    def _claim_directory(self) -> None:
        """Take the process-wide lock on `path` the first time anything touches it."""
        if self._lock_file is not None:
            if self._owner_pid != os.getpid():
                # A forked child shares the parent's lock and would write through copies of its
                # shards: the embedded engine needs threads, not processes.
                raise VectorStoreUnavailable(
                    f"the embedded Qdrant store at {self.path} was opened by process {self._owner_pid} "
                    "and cannot be used from a forked child; run the worker with threads, or set QDRANT_URL"
                )
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.path / _LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held open until close()
        except OSError as exc:
            raise VectorStoreUnavailable(f"cannot open the Qdrant data directory {self.path}: {exc}") from exc
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock_file.seek(0)
            holder = lock_file.read().strip()
            lock_file.close()
            held_by = f"process {holder}" if holder else "another process"
            raise VectorStoreUnavailable(
                f"the embedded Qdrant data directory {self.path} is already open in {held_by}; only one "
                "process may open it, so run the web server and the worker in one process, or point "
                "QDRANT_URL at a Qdrant server"
            ) from None
        lock_file.truncate(0)
        lock_file.write(f"{os.getpid()}\n")
        lock_file.flush()
        self._lock_file = lock_file
        self._owner_pid = os.getpid()
        for trash in self.path.glob(f"{_TRASH_PREFIX}*"):
            shutil.rmtree(trash, ignore_errors=True)

    def _directory(self, name: str) -> Path:
        if not _SAFE_NAME.match(name):
            raise ValueError(f"invalid vector collection name {name!r}")
        return self.path / name

    def _check_dimension(self, name: str, shard: EdgeShard, dimension: int) -> None:
        # Edge has no call that reports a shard's vector size; a one-point query with a vector of
        # the wanted size is refused with "Vector dimension error" when the sizes differ.
        try:
            shard.query(QueryRequest(limit=1, query=Query.Nearest([0.0] * dimension, using=DENSE_VECTOR)))
        except Exception as exc:
            raise VectorStoreError(
                f"vector collection {name!r} already exists with another configuration: {exc}"
            ) from exc

    def _query(
        self,
        name: str,
        query: Query,
        limit: int,
        where: PointFilter | None,
        nothing_to_find: bool = False,
    ) -> list[VectorHit]:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        shard = self._shard(name)
        if nothing_to_find or (where is not None and where.matches_nothing):
            return []
        request = QueryRequest(
            limit=limit,
            query=query,
            filter=_native_filter(where),
            with_payload=True,
            with_vector=False,
        )
        with self._edge_errors(name):
            found = shard.query(request)
        return [VectorHit(id=str(p.id), score=float(p.score), payload=dict(p.payload or {})) for p in found]

    def _delete_matching(self, name: str, selection: Filter) -> None:
        try:
            shard = self._shard(name)
        except CollectionNotFound:
            return
        with self._edge_errors(name):
            shard.update(UpdateOperation.delete_points_by_filter(selection))
            shard.flush()

    @contextlib.contextmanager
    def _edge_errors(self, name: str) -> Iterator[None]:
        # qdrant-edge raises bare Exception with a message; give callers the interface's errors.
        try:
            yield
        except VectorStoreError:
            raise
        except Exception as exc:
            message = str(exc)
            if "WouldBlock" in message:
                raise VectorStoreUnavailable(
                    f"the Qdrant shard {self.path / name} is already open in another process: {message}"
                ) from exc
            if "Shard is not initialized" in message and name not in self._shards:
                raise CollectionNotFound(name) from exc  # dropped while this call ran
            raise VectorStoreError(f"embedded Qdrant failed on {name!r}: {message}") from exc


def _edge_point(point: ChunkPoint) -> Point:
    vectors: dict[str, list[float] | EdgeSparseVector | list[list[float]]] = {
        DENSE_VECTOR: as_float_list(point.vector)
    }
    if point.sparse:
        vectors[SPARSE_VECTOR] = EdgeSparseVector(list(point.sparse.indices), list(point.sparse.values))
    return Point(point.id, vectors, dict(point.payload))


def _field_filter(field: str, value: str | list[str]) -> Filter:
    match = MatchAny(value) if isinstance(value, list) else MatchValue(value)
    return Filter(must=[FieldCondition(field, match=match)])


def _document_filter(document_id: str | None) -> Filter | None:
    return None if document_id is None else _field_filter("document_id", document_id)


_INDEX_SCHEMAS: dict[str, Any] = {
    "keyword": lambda: PayloadSchemaType.Keyword,
    "prefix": lambda: KeywordIndexParams(prefix=True),
    "float": lambda: PayloadSchemaType.Float,
}


def _index_kind(index: Any) -> str:
    """The INDEXED_FIELDS kind of an existing payload index."""
    if index.data_type == PayloadSchemaType.Float:
        return "float"
    if index.data_type == PayloadSchemaType.Keyword:
        return "prefix" if getattr(index.params, "prefix", None) else "keyword"
    return str(index.data_type)


def _native_filter(where: PointFilter | None) -> Filter | None:
    """The engine's filter for `where`: conditions on indexed payload fields, all of which must hold."""
    if where is None:
        return None
    must: list[Any] = []
    if where.document_ids is not None:
        must.append(FieldCondition("document_id", match=MatchAny(list(where.document_ids))))
    if where.paths is not None:
        must.append(FieldCondition("path", match=MatchAny(list(where.paths))))
    if where.path_prefix:
        must.append(FieldCondition("path", match=MatchPrefix(where.path_prefix)))
    must += [FieldCondition("path", match=MatchSubstring(part)) for part in where.path_substrings]
    if where.has_mime_condition:
        kinds: list[Any] = [
            FieldCondition("mime_type", match=MatchPrefix(prefix)) for prefix in where.mime_prefixes
        ]
        if where.mime_types:
            kinds.append(FieldCondition("mime_type", match=MatchAny(list(where.mime_types))))
        must.append(Filter(should=kinds))
    if where.modified_from is not None or where.modified_before is not None:
        must.append(
            FieldCondition("mtime", range=RangeFloat(gte=where.modified_from, lt=where.modified_before))
        )
    return Filter(must=must) if must else None
