"""The embedded engine builds HNSW indexes in a child process, on a copy, and switches to it.

Every test runs the real qdrant-edge engine and the real `edge_indexer` child process. A build
must never lose a write (those made while it runs included), never fail a search, and leave the
collection whole whatever stops it: a failed child, a drop, or the process killed mid-build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_edge import EdgeShard, Point, UpdateOperation

from semantik.vectors.base import ChunkPoint, VectorStoreError
from semantik.vectors.edge import PRIVATE_PREFIXES, EdgeVectorStore

DIM = 16
NAME = "indexed"
ROOT = Path(__file__).resolve().parents[2]


def points(document: str, count: int, first: int = 0) -> list[ChunkPoint]:
    rng = np.random.default_rng(abs(hash(document)) % 2**32)
    vectors = rng.standard_normal((first + count, DIM)).astype(np.float32)[first:]
    return [
        ChunkPoint(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{document}/{first + i}")),
            vector=vectors[i],
            payload={
                "document_id": document,
                "source_id": "s",
                "path": f"{document}.txt",
                "chunk_index": first + i,
                "text": f"chunk {first + i} of {document}",
            },
        )
        for i in range(count)
    ]


def ids(found: list[ChunkPoint]) -> set[str]:
    return {p.id for p in found}


def private_leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith(PRIVATE_PREFIXES[1:]))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EdgeVectorStore]:
    opened = EdgeVectorStore(tmp_path / "qdrant", index_threshold=0)  # builds only when asked
    opened.create_collection(NAME, DIM)
    yield opened
    opened.close()


def during_build(store: EdgeVectorStore, action: Callable[[Path], None]) -> None:
    """Run `action(staging)` after the shard was copied and before the child indexes the copy."""
    real = store._run_indexer

    def run_indexer(name: str, staging: Path) -> None:
        action(staging)
        real(name, staging)

    store._run_indexer = run_indexer  # type: ignore[method-assign]


def test_a_build_indexes_the_vectors_and_keeps_every_point(store: EdgeVectorStore, tmp_path: Path) -> None:
    written = points("a", 3000)
    store.upsert(NAME, written)
    before = store.index_status(NAME)
    assert (before.points, before.indexed_vectors, before.unindexed_points) == (3000, 0, 3000)

    assert store.build_index(NAME) is True

    after = store.index_status(NAME)
    assert (after.points, after.unindexed_points, after.building) == (3000, 0, False)
    assert after.indexed_vectors >= 3000  # the dense vectors are in an HNSW graph now
    assert store.point_ids(NAME) == ids(written)
    assert store.retrieve(NAME, [written[7].id])[written[7].id]["text"] == "chunk 7 of a"
    for point in written[:50]:
        assert store.search(NAME, point.vector, limit=1)[0].id == point.id
    assert private_leftovers(tmp_path / "qdrant") == []


def test_writes_made_during_a_build_are_all_in_the_new_index(store: EdgeVectorStore) -> None:
    store.upsert(NAME, points("a", 1000) + points("b", 1000))
    added = points("c", 200)
    renamed = [
        ChunkPoint(p.id, p.vector, {**p.payload, "text": "rewritten during the build"})
        for p in points("b", 5)
    ]

    def write(staging: Path) -> None:
        for one in added:  # one write each: more than can be caught up with writers held back
            store.upsert(NAME, [one])
        store.delete_documents(NAME, ["a"])
        store.upsert(NAME, renamed)

    during_build(store, write)
    assert store.build_index(NAME) is True

    assert store.point_ids(NAME) == ids(points("b", 1000)) | ids(added)
    assert store.retrieve(NAME, [renamed[3].id])[renamed[3].id]["text"] == "rewritten during the build"
    assert store.search(NAME, added[150].vector, limit=1)[0].id == added[150].id
    status = store.index_status(NAME)
    assert status.points == 1200
    assert status.unindexed_points >= 200  # written after the copy: searched exactly until the next build


def test_searches_never_fail_while_the_index_is_switched(store: EdgeVectorStore) -> None:
    written = points("a", 3000)
    store.upsert(NAME, written)
    failures: list[BaseException] = []
    answers = 0
    stop = threading.Event()

    def search() -> None:
        nonlocal answers
        while not stop.is_set():
            try:
                assert store.search(NAME, written[11].vector, limit=3)[0].id == written[11].id
                assert store.count(NAME) == 3000
                assert written[5].id in store.retrieve(NAME, [written[5].id])
                answers += 1
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                return

    readers = [threading.Thread(target=search) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(3):
            assert store.build_index(NAME) is True
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert failures == []
    assert answers > 0


def test_a_dropped_collection_gives_its_build_up(store: EdgeVectorStore, tmp_path: Path) -> None:
    store.upsert(NAME, points("a", 500))
    during_build(store, lambda staging: store.drop_collection(NAME))

    assert store.build_index(NAME) is False

    assert not store.collection_exists(NAME)
    assert private_leftovers(tmp_path / "qdrant") == []
    assert not (tmp_path / "qdrant" / NAME).exists()


def test_a_failed_build_leaves_the_collection_as_it_was(store: EdgeVectorStore, tmp_path: Path) -> None:
    written = points("a", 500)
    store.upsert(NAME, written)
    during_build(store, lambda staging: (staging / "edge_config.json").write_text("not json"))

    with pytest.raises(VectorStoreError, match="building the index of vector collection 'indexed' failed"):
        store.build_index(NAME)

    status = store.index_status(NAME)
    assert (status.points, status.indexed_vectors, status.unindexed_points) == (500, 0, 500)
    assert store.search(NAME, written[3].vector, limit=1)[0].id == written[3].id
    assert private_leftovers(tmp_path / "qdrant") == []


def test_too_many_writes_during_a_build_give_it_up_and_keep_them(
    store: EdgeVectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("semantik.vectors.edge._MAX_JOURNAL_POINTS", 50)
    store.upsert(NAME, points("a", 100))
    during_build(store, lambda staging: store.upsert(NAME, points("b", 80)))

    assert store.build_index(NAME) is False

    assert store.point_ids(NAME) == ids(points("a", 100)) | ids(points("b", 80))
    assert store.index_status(NAME).unindexed_points == 180  # still due for a build


def test_a_reopened_store_knows_what_its_last_build_covered(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    store.create_collection(NAME, DIM)
    store.upsert(NAME, points("a", 400))
    store.build_index(NAME)
    store.upsert(NAME, points("b", 30))
    store.close()

    reopened = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        status = reopened.index_status(NAME)
        assert (status.points, status.unindexed_points) == (430, 30)
    finally:
        reopened.close()


def copy_with_extra_point(live: Path, copy: Path, complete: bool) -> str:
    """A copy of the closed shard in `live` with one more point, marked complete or not."""
    shutil.copytree(live, copy)
    extra = str(uuid.uuid4())
    shard = EdgeShard.load(str(copy))
    shard.update(UpdateOperation.upsert_points([Point(extra, {"dense": [1.0] * DIM}, {"text": "extra"})]))
    shard.flush()
    shard.close()
    if complete:
        (copy / ".complete").touch()
    return extra


@pytest.mark.parametrize("complete", [True, False], ids=["copy-complete", "copy-unfinished"])
def test_a_crash_between_the_switchs_renames_is_repaired_on_open(tmp_path: Path, complete: bool) -> None:
    """Killed after renaming the shard away and before renaming the copy in: the complete copy
    takes its place (it had every write); an unfinished one is thrown away for the old shard."""
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    store.create_collection(NAME, DIM)
    written = points("a", 300)
    store.upsert(NAME, written)
    store.close()
    hex_id = uuid.uuid4().hex
    extra = copy_with_extra_point(tmp_path / NAME, tmp_path / f".index-{NAME}-{hex_id}", complete)
    (tmp_path / NAME).rename(tmp_path / f".retired-{NAME}-{hex_id}")

    reopened = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        found = reopened.point_ids(NAME)
        assert found == (ids(written) | {extra} if complete else ids(written))
        assert private_leftovers(tmp_path) == []
        assert not (tmp_path / NAME / ".complete").exists()
    finally:
        reopened.close()


KILLED_BUILDER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path[:0] = [sys.argv[2] + "/backend", sys.argv[2] + "/tests/vectors"]
    from semantik.vectors.edge import EdgeVectorStore
    from test_edge_indexing import points, NAME, DIM
    store = EdgeVectorStore(sys.argv[1], index_threshold=0)
    store.create_collection(NAME, DIM)
    store.upsert(NAME, points("a", 2000))
    real = store._run_indexer
    def slow(name, staging):
        store.upsert(NAME, points("b", 10))  # journaled, never switched in: must not be lost
        print(staging, flush=True)
        time.sleep(60)
    store._run_indexer = slow
    store.build_index(NAME)
    """
)


def test_a_process_killed_mid_build_leaves_the_collection_whole(tmp_path: Path) -> None:
    builder = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILDER, str(tmp_path), str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert builder.stdout is not None
        staging = Path(builder.stdout.readline().strip())
        assert staging.name.startswith(f".index-{NAME}-"), builder.stderr.read() if builder.stderr else ""
        assert staging.is_dir()
    finally:
        os.kill(builder.pid, signal.SIGKILL)
        builder.wait()

    store = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        assert store.point_ids(NAME) == ids(points("a", 2000)) | ids(points("b", 10))
        assert private_leftovers(tmp_path) == []
    finally:
        store.close()


def test_the_store_indexes_a_collection_once_its_writes_pause(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, index_threshold=500, index_quiet_s=0.2)
    try:
        store.create_collection(NAME, DIM)
        store.create_collection("small", DIM)
        store.upsert("small", points("s", 100))  # below the threshold: stays exact
        for first in range(0, 600, 100):
            store.upsert(NAME, points("a", 100, first=first))
        deadline = time.monotonic() + 60
        status = store.index_status(NAME)
        while (status.unindexed_points or status.building) and time.monotonic() < deadline:
            time.sleep(0.1)
            status = store.index_status(NAME)
        assert (status.points, status.unindexed_points) == (600, 0)
        assert status.indexed_vectors >= 600
        assert store.index_status("small").indexed_vectors == 0
        assert store.point_ids(NAME) == ids(points("a", 600))
    finally:
        store.close()


def test_every_shard_searches_in_the_callers_thread(tmp_path: Path) -> None:
    """qdrant-edge holds the GIL through a query: a search pool would make every other request
    wait for its threads. New shards are created with one search thread, older ones get it."""
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    store.create_collection(NAME, DIM)
    store.upsert(NAME, points("a", 10))
    store.close()
    config_file = tmp_path / NAME / "edge_config.json"
    assert json.loads(config_file.read_text())["max_search_threads"] == 1
    older = json.loads(config_file.read_text())
    del older["max_search_threads"]
    config_file.write_text(json.dumps(older))

    reopened = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        assert len(reopened.search(NAME, points("a", 1)[0].vector, limit=3)) == 3
        assert json.loads(config_file.read_text())["max_search_threads"] == 1
    finally:
        reopened.close()
