"""The embedded vector store: the real Qdrant engine in-process (qdrant-edge), one shard per collection."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

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
    SearchParams,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from semantik.stack.children import die_with_parent
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
# An index build works on a copy named `.index-<name>-<hex>`; the shard it replaces is renamed to
# `.retired-<name>-<hex>` for the moment of the switch. The copy holds `.complete` once it has every
# write the shard has, so a crash between the two renames is undone with the copy, losing nothing.
_STAGING_PREFIX = ".index-"
_RETIRED_PREFIX = ".retired-"
_COMPLETE_MARKER = ".complete"
_INDEX_META = "semantik_index.json"  # in a shard: how many points its last index build covered
# qdrant-edge 0.9 holds the GIL for the whole of a query, including while its search pool's threads
# do the work: with a pool, a query waits for other threads with every other request stopped
# (measured: p99 14 ms for a 0.7 ms HNSW search, and a third of the web process's GIL time under
# 8 concurrent clients). One search thread runs the query in the caller's thread: the GIL is held
# only as long as the search computes. Requests, not queries, are what run in parallel here.
SEARCH_THREADS = 1
# Directories in the data directory that belong to the process holding it, not to any collection.
PRIVATE_PREFIXES = (_LOCK_FILE, _TRASH_PREFIX, _STAGING_PREFIX, _RETIRED_PREFIX)

# Collections with fewer points than this written since their last index build are searched
# exactly (at 20,000 × 384 an exact search costs about 3 ms); 0 turns automatic builds off.
DEFAULT_INDEX_THRESHOLD = 20_000
# A build waits until the collection has had no write for this long, so an ingestion finishes first.
DEFAULT_INDEX_QUIET_S = 10.0
_INDEXER_POLL_S = 1.0
_RETRY_FAILED_BUILD_S = 600.0
# Writes made while a build runs are kept to be applied to the new index; past this many points
# the build is given up (and tried again when the writes stop) rather than hold them all in memory.
_MAX_JOURNAL_POINTS = 50_000
# When this few writes remain to catch up, they are applied with writers held back, then the switch.
_REPLAY_UNDER_LOCK = 64

log = logging.getLogger(__name__)
_R = TypeVar("_R")


@dataclass(frozen=True)
class IndexStatus:
    points: int
    indexed_vectors: int  # dense and sparse vectors in indexed structures (HNSW, sparse inverted index)
    unindexed_points: int  # written since the last index build: searched exactly until the next
    building: bool


@dataclass
class _Journal:
    """The writes made to a shard while its index is being built on a copy, in order."""

    operations: list[UpdateOperation] = field(default_factory=list)
    points: int = 0
    abandoned: str | None = None  # why the build must be thrown away (the collection was dropped...)


class EdgeVectorStore:
    """Collections as qdrant-edge shards in `path/<name>`, opened on first use and kept open.

    One instance per process, shared by all threads: edge shards are thread-safe and release the
    GIL while they search and write, so only opening, creating and dropping shards take the lock,
    and each collection's writes take that collection's write lock (held by an index switch too).
    Only one process may open `path`; a lock file makes a second one fail with a clear message.

    New points are searched exactly (about 15 ms for 100,000 × 384 on two cores). Once
    `index_threshold` points have been written to a collection since its last index build and no
    write has come for `index_quiet_s`, a background thread builds its HNSW index in a child
    process (`build_index`), after which a search costs about 1 ms.
    """

    _UPSERT_BATCH = 512
    _SCROLL_PAGE = 1024

    def __init__(
        self,
        path: Path,
        index_threshold: int = DEFAULT_INDEX_THRESHOLD,
        index_quiet_s: float = DEFAULT_INDEX_QUIET_S,
    ) -> None:
        if index_threshold < 0:
            raise ValueError(f"index_threshold must be 0 (off) or positive, got {index_threshold}")
        self.path = Path(path)
        self.index_threshold = index_threshold
        self.index_quiet_s = index_quiet_s
        self._lock = threading.RLock()
        self._shards: dict[str, EdgeShard] = {}
        self._lock_file: IO[str] | None = None
        self._owner_pid: int | None = None
        self._write_locks: dict[str, threading.Lock] = {}
        self._journals: dict[str, _Journal] = {}
        self._pending: dict[str, int] = {}  # points written since the collection's last index build
        self._last_write: dict[str, float] = {}
        self._build_failed_at: dict[str, float] = {}
        self._building: set[str] = set()
        self._children: set[subprocess.Popen[str]] = set()
        self._closing = threading.Event()
        self._indexer: threading.Thread | None = None

    def create_collection(self, name: str, dimension: int) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive, got {dimension}")
        directory = self._directory(name)
        with self._write_lock(name), self._lock:
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
                    max_search_threads=SEARCH_THREADS,
                )
                with self._edge_errors(name):
                    shard = EdgeShard.create(str(directory), config)
                self._shards[name] = shard
                self._pending[name] = 0
            with self._edge_errors(name):
                indexed = shard.info().payload_schema
                for field_name, kind in INDEXED_FIELDS.items():
                    existing = indexed.get(field_name)
                    if existing is not None and _index_kind(existing) == kind:
                        continue
                    if existing is not None:  # an older kind of index (keyword before prefix)
                        self._apply(name, shard, UpdateOperation.delete_field_index(field_name))
                    self._apply(
                        name, shard, UpdateOperation.create_field_index(field_name, _INDEX_SCHEMAS[kind]())
                    )
                shard.flush()

    def collection_exists(self, name: str) -> bool:
        with self._lock:
            self._claim_directory()
            return (self._directory(name) / _CONFIG_FILE).exists()

    def drop_collection(self, name: str) -> None:
        directory = self._directory(name)
        with self._write_lock(name), self._lock:
            self._claim_directory()
            journal = self._journals.get(name)
            if journal is not None:
                journal.abandoned = "the collection was dropped"
            shard = self._shards.pop(name, None)
            self._pending.pop(name, None)
            if shard is not None:
                shard.close()
            if directory.exists():
                # Renaming first makes the drop atomic: a crash mid-delete leaves trash, not a
                # half-deleted shard that still looks like a collection.
                self._discard(directory, name)

    def upsert(self, name: str, points: Sequence[ChunkPoint]) -> None:
        with self._write_lock(name):
            shard = self._shard(name)
            with self._edge_errors(name):
                for batch in batched(points, self._UPSERT_BATCH):
                    operation = UpdateOperation.upsert_points([_edge_point(p) for p in batch])
                    self._apply(name, shard, operation, len(batch))
                # The WAL alone already survives a killed process (measured); flushing writes the
                # segments too, so an acknowledged upsert does not depend on replaying the WAL.
                shard.flush()
        self._written(name, len(points))

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
        exact: bool = False,
    ) -> list[VectorHit]:
        """The nearest points; `exact` compares with every vector instead of walking the HNSW
        graph (the reference an index's recall is measured against)."""
        query = Query.Nearest(as_float_list(vector), using=DENSE_VECTOR)
        params = SearchParams(exact=True) if exact else None
        return self._query(name, query, limit, where, params=params, with_payload=with_payload)

    def keyword_search(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        where: PointFilter | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        query = Query.Nearest(
            EdgeSparseVector(list(vector.indices), list(vector.values)), using=SPARSE_VECTOR
        )
        return self._query(name, query, limit, where, nothing_to_find=not vector, with_payload=with_payload)

    def retrieve(self, name: str, point_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not point_ids:
            self._shard(name)  # a missing collection is still an error
            return {}
        records = self._read(name, lambda shard: shard.retrieve(list(point_ids), True, False))
        return {str(record.id): dict(record.payload or {}) for record in records}

    def count(self, name: str, document_id: str | None = None) -> int:
        request = CountRequest(exact=True, filter=_document_filter(document_id))
        return self._read(name, lambda shard: shard.count(request))

    def point_ids(self, name: str, document_id: str | None = None) -> set[str]:
        def scroll_all(shard: EdgeShard) -> set[str]:
            ids: set[str] = set()
            offset = None
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

        return self._read(name, scroll_all)

    def document_chunks(self, name: str, document_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        check_page(offset, limit)
        selection = Filter(
            must=[
                FieldCondition("document_id", match=MatchValue(document_id)),
                FieldCondition("chunk_index", range=RangeFloat(gte=offset, lt=offset + limit)),
            ]
        )
        # At most `limit` points match, so one scroll page holds them all.
        request = ScrollRequest(limit=limit, filter=selection, with_payload=True, with_vector=False)
        records, _ = self._read(name, lambda shard: shard.scroll(request))
        return sorted((dict(r.payload or {}) for r in records), key=lambda p: p["chunk_index"])

    def build_index(self, name: str) -> bool:
        """Build the HNSW index of `name` without stopping its searches or writes; True once switched.

        The shard is flushed and copied (writes wait for the copy, about a second per 300 MB), a
        child process at a lower priority indexes the copy (`edge_indexer`), the writes made
        meanwhile are applied to it, and the copy takes the shard's place (two renames) while
        writes are held back; searches run on the old shard until then. False when nothing was switched:
        a build of it already running, or this one given up (the collection dropped, too many
        writes meanwhile). A crash at any point leaves the collection whole (see `_recover`).
        Raises VectorStoreError when the child fails or the disk cannot hold the copy.
        """
        with self._lock:
            if name in self._building:
                return False
            self._building.add(name)
        staging: Path | None = None
        journal = _Journal()
        covered = 0
        try:
            with self._write_lock(name):
                shard = self._shard(name)
                directory = self._directory(name)
                with self._edge_errors(name):
                    shard.flush()
                    covered = shard.info().points_count
                _check_room_for_copy(directory, self.path)
                staging = self.path / f"{_STAGING_PREFIX}{name}-{uuid.uuid4().hex}"
                shutil.copytree(directory, staging, ignore=shutil.ignore_patterns(_COMPLETE_MARKER))
                with self._lock:
                    self._journals[name] = journal
                    covered_writes = self._pending.get(name, 0)
                    self._pending[name] = 0  # from here on, writes are for the next build
            try:
                self._run_indexer(name, staging)
                switched = self._switch(name, staging, journal, covered)
            except BaseException:
                with self._lock:
                    if name in self._pending:  # not dropped meanwhile
                        self._pending[name] += covered_writes
                raise
            if not switched:
                with self._lock:
                    if name in self._pending:
                        self._pending[name] += covered_writes
                log.warning("Index build of vector collection %s given up: %s", name, journal.abandoned)
            return switched
        finally:
            with self._lock:
                if self._journals.get(name) is journal:
                    del self._journals[name]
                self._building.discard(name)
            if staging is not None and staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def index_status(self, name: str) -> IndexStatus:
        info = self._read(name, lambda shard: shard.info())
        with self._lock:
            return IndexStatus(
                points=info.points_count,
                indexed_vectors=info.indexed_vectors_count,
                unindexed_points=self._pending.get(name, 0),
                building=name in self._building,
            )

    def ping(self) -> None:
        with self._lock:
            self._claim_directory()
        if not os.access(self.path, os.W_OK):
            raise VectorStoreUnavailable(f"the Qdrant data directory {self.path} is not writable")

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            children, indexer = list(self._children), self._indexer
        for child in children:
            with contextlib.suppress(OSError):
                child.terminate()
        if indexer is not None and indexer is not threading.current_thread():
            indexer.join()
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
            self._indexer = None
            self._pending.clear()
            self._last_write.clear()
        self._closing.clear()

    def _shard(self, name: str) -> EdgeShard:
        directory = self._directory(name)
        with self._lock:
            self._claim_directory()
            shard = self._shards.get(name)
            if shard is None:
                if not (directory / _CONFIG_FILE).exists():
                    raise CollectionNotFound(name)
                with self._edge_errors(name):
                    shard = _load_shard(directory)
                    points = shard.info().points_count
                self._shards[name] = shard
                self._pending[name] = max(0, points - _indexed_points(directory))
                self._maybe_start_indexer(name)
            return shard

    def _write_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._write_locks.setdefault(name, threading.Lock())

    def _apply(self, name: str, shard: EdgeShard, operation: UpdateOperation, points: int = 0) -> None:
        """Apply a write to the shard and, while its index is being built, keep it for the copy.

        The caller holds the collection's write lock, so the copy receives writes in their order.
        """
        shard.update(operation)
        journal = self._journals.get(name)
        if journal is None or journal.abandoned:
            return
        journal.operations.append(operation)
        journal.points += points
        if journal.points > _MAX_JOURNAL_POINTS:
            journal.abandoned = f"more than {_MAX_JOURNAL_POINTS} points were written during the build"
            journal.operations.clear()

    def _written(self, name: str, points: int) -> None:
        with self._lock:
            if name not in self._shards:
                return
            self._pending[name] = self._pending.get(name, 0) + points
            self._last_write[name] = time.monotonic()
            self._maybe_start_indexer(name)

    def _read(self, name: str, read: Callable[[EdgeShard], _R]) -> _R:
        """`read` on the collection's shard; once more on the new shard if an index switch closed it."""
        shard = self._shard(name)
        with self._edge_errors(name):
            try:
                return read(shard)
            except Exception:
                with self._lock:
                    current = self._shards.get(name)
                if current is None or current is shard:
                    raise
            return read(current)

    def _maybe_start_indexer(self, name: str) -> None:
        """Start the background index builder if `name` has enough unindexed points (lock held)."""
        if not self.index_threshold or self._pending.get(name, 0) < self.index_threshold:
            return
        if self._indexer is None or not self._indexer.is_alive():
            self._indexer = threading.Thread(
                target=self._index_when_quiet, name="qdrant-indexer", daemon=True
            )
            self._indexer.start()

    def _index_when_quiet(self) -> None:
        """Build the index of each collection that needs one once its writes have stopped."""
        while not self._closing.wait(_INDEXER_POLL_S):
            now = time.monotonic()
            with self._lock:
                due = [
                    name
                    for name, pending in self._pending.items()
                    if pending >= self.index_threshold
                    and now - self._last_write.get(name, 0.0) >= self.index_quiet_s
                    and now - self._build_failed_at.get(name, -_RETRY_FAILED_BUILD_S) >= _RETRY_FAILED_BUILD_S
                ]
            for name in due:
                if self._closing.is_set():
                    return
                started = time.monotonic()
                try:
                    switched = self.build_index(name)
                except CollectionNotFound:
                    continue
                except Exception:
                    if self._closing.is_set():
                        return
                    log.exception("Building the index of vector collection %s failed; retrying later", name)
                    with self._lock:
                        self._build_failed_at[name] = time.monotonic()
                    continue
                if switched:
                    log.info("Indexed vector collection %s in %.1f s", name, time.monotonic() - started)

    def _run_indexer(self, name: str, staging: Path) -> None:
        """Index the copy in `staging` in a child process; VectorStoreError if it fails."""
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        child = subprocess.Popen(
            [sys.executable, "-m", "semantik.vectors.edge_indexer", str(staging)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            preexec_fn=functools.partial(die_with_parent, os.getpid()),  # noqa: PLW1509 - only calls prctl
        )
        with self._lock:
            self._children.add(child)
        try:
            if self._closing.is_set():
                child.terminate()
            out, err = child.communicate()
        finally:
            with self._lock:
                self._children.discard(child)
        if child.returncode != 0:
            reason = (err or out).strip()[-2000:] or f"exit status {child.returncode}"
            raise VectorStoreError(f"building the index of vector collection {name!r} failed: {reason}")
        log.debug("Index build of %s: %s", name, out.strip())

    def _switch(self, name: str, staging: Path, journal: _Journal, covered: int) -> bool:
        """Bring the indexed copy up to date with the shard and put it in the shard's place."""
        with self._edge_errors(name):
            built = _load_shard(staging)
        open_copy: EdgeShard | None = built
        try:
            while True:
                with self._write_lock(name):
                    if journal.abandoned:
                        return False
                    operations, journal.operations = journal.operations, []
                    if len(operations) <= _REPLAY_UNDER_LOCK:
                        with self._edge_errors(name):
                            for operation in operations:
                                built.update(operation)
                            built.flush()
                            built.close()
                        open_copy = None
                        (staging / _INDEX_META).write_text(json.dumps({"indexed_points": covered}))
                        self._put_in_place(name, staging)
                        return True
                with self._edge_errors(name):  # many to catch up: with writers running
                    for operation in operations:
                        built.update(operation)
        finally:
            if open_copy is not None:
                with contextlib.suppress(Exception):
                    open_copy.close()

    def _put_in_place(self, name: str, staging: Path) -> None:
        """Replace the shard of `name` by the complete copy in `staging` (write lock held)."""
        live = self._directory(name)
        retired = self.path / f"{_RETIRED_PREFIX}{name}-{uuid.uuid4().hex}"
        marker = staging / _COMPLETE_MARKER
        marker.touch()
        _fsync_directory(staging)
        os.rename(live, retired)
        os.rename(staging, live)  # a crash between the two renames: `_recover` finishes the switch
        _fsync_directory(self.path)
        (live / _COMPLETE_MARKER).unlink()
        try:
            with self._edge_errors(name):
                shard = _load_shard(live)
        except VectorStoreError:
            os.rename(live, staging)
            os.rename(retired, live)
            raise
        with self._lock:
            old = self._shards.get(name)
            self._shards[name] = shard
        if old is not None:
            # A search still running on it fails and is retried on the new shard (`_read`).
            with contextlib.suppress(Exception):
                old.close()
        self._discard(retired, name)

    def _discard(self, directory: Path, name: str) -> None:
        trash = self.path / f"{_TRASH_PREFIX}{name}-{uuid.uuid4().hex}"
        directory.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _recover(self) -> None:
        """Finish or undo what a crash interrupted: index builds, their switches, drops."""
        for staging in self.path.glob(f"{_STAGING_PREFIX}*"):
            live = self._sibling(staging.name, _STAGING_PREFIX)
            if live is not None and not live.exists() and (staging / _COMPLETE_MARKER).exists():
                # Stopped between the switch's two renames: the copy held every write.
                os.rename(staging, live)
                (live / _COMPLETE_MARKER).unlink()
            else:
                shutil.rmtree(staging, ignore_errors=True)
        for retired in self.path.glob(f"{_RETIRED_PREFIX}*"):
            live = self._sibling(retired.name, _RETIRED_PREFIX)
            if live is not None and not live.exists():
                os.rename(retired, live)
            else:
                shutil.rmtree(retired, ignore_errors=True)
        for trash in self.path.glob(f"{_TRASH_PREFIX}*"):
            shutil.rmtree(trash, ignore_errors=True)

    def _sibling(self, private_name: str, prefix: str) -> Path | None:
        """The collection directory a `<prefix><name>-<hex>` directory belongs to."""
        name, _, suffix = private_name[len(prefix) :].rpartition("-")
        if len(suffix) != 32 or not _SAFE_NAME.match(name):
            return None
        return self.path / name

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
        self._recover()

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
        params: SearchParams | None = None,
        with_payload: bool = True,
    ) -> list[VectorHit]:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        self._shard(name)  # a missing collection is an error even when there is nothing to find
        if nothing_to_find or (where is not None and where.matches_nothing):
            return []
        request = QueryRequest(
            limit=limit,
            query=query,
            filter=_native_filter(where),
            with_payload=with_payload,
            with_vector=False,
            params=params,
        )
        found = self._read(name, lambda shard: shard.query(request))
        return [VectorHit(id=str(p.id), score=float(p.score), payload=dict(p.payload or {})) for p in found]

    def _delete_matching(self, name: str, selection: Filter) -> None:
        with self._write_lock(name):
            try:
                shard = self._shard(name)
            except CollectionNotFound:
                return
            with self._edge_errors(name):
                self._apply(name, shard, UpdateOperation.delete_points_by_filter(selection))
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


def _load_shard(directory: Path) -> EdgeShard:
    """Open the shard in `directory` with this store's search settings (older shards get them too)."""
    config_file = directory / _CONFIG_FILE
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("max_search_threads") != SEARCH_THREADS:
        # Only the persisted configuration can change it without restating every vector's
        # parameters; EdgeShard.load reads it as it is on disk.
        config["max_search_threads"] = SEARCH_THREADS
        temporary = config_file.with_name(f"{_CONFIG_FILE}.tmp")
        temporary.write_text(json.dumps(config), encoding="utf-8")
        os.replace(temporary, config_file)
    return EdgeShard.load(str(directory))


def _indexed_points(directory: Path) -> int:
    """How many points the shard in `directory` had when its index was last built (0: never)."""
    try:
        meta = json.loads((directory / _INDEX_META).read_text(encoding="utf-8"))
        return max(0, int(meta["indexed_points"]))
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _check_room_for_copy(directory: Path, data: Path) -> None:
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    free = shutil.disk_usage(data).free
    if free < size * 1.5:  # the copy, plus what its index adds
        raise VectorStoreError(
            f"building the index of {directory.name!r} needs about {size * 1.5 / 2**20:.0f} MiB free "
            f"in {data}; {free / 2**20:.0f} MiB are"
        )


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
