"""Hostile input through the real ingestion path: each document indexes or fails alone with a reason,
the operation completes, Qdrant holds exactly the indexed chunks, and memory stays bounded."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.documents.services import source_add, source_index
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
from tests.documents.test_services import assert_exact
from tests.reliability import corpus
from tests.reliability.corpus import ABSENT, EITHER, FAILED, INDEXED, Expect
from tests.reliability.privileges import in_thread, without_file_permission_override

pytestmark = pytest.mark.django_db(transaction=True)

# Extraction limits for these tests: tighter than the defaults, so a bomb meets them quickly.
EXTRACTION_MEMORY = 1024 * 2**20
EXTRACTION_TIMEOUT_S = 30.0
# What the indexing process itself may allocate (Python objects, traced) while the corpus runs:
# its largest text is 8 MB, its largest file 22 MB; a bomb unpacked here would be GBs.
MAIN_PROCESS_PEAK = 400 * 2**20


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Hostile"}, format="json").json()
    return Collection.objects.get(pk=body["id"])


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.EXTRACTION_MEMORY_BYTES = EXTRACTION_MEMORY
    settings.EXTRACTION_TIMEOUT_S = EXTRACTION_TIMEOUT_S


def run_operation(operation: Operation, *, without_override: bool = False) -> Operation:
    """Run the operation as the worker would, on a thread of its own (optionally without root's
    file-permission override); its exception, if any, is raised here."""

    def work() -> None:
        try:
            source_index(str(operation.id))
        finally:
            from django.db import connection

            connection.close()

    if without_override:
        without_file_permission_override(work)
    else:
        in_thread(work)
    operation.refresh_from_db()
    return operation


# --- measuring memory -----------------------------------------------------------------------------


class WorkerPeakRss:
    """The highest resident memory (VmHWM) any extraction worker process reached, polled from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self.workers: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="rss-poll", daemon=True)

    def __enter__(self) -> WorkerPeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            for pid in _extraction_workers():
                self.workers.add(pid)
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue  # it ended between the listing and the read
                found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
                if found:
                    self.peak = max(self.peak, int(found[1]) * 1024)


def _extraction_workers() -> Iterator[int]:
    """Processes forked by a multiprocessing fork server started from this process."""
    servers = set()
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            if (
                parents[int(entry.name)] == os.getpid()
                and b"multiprocessing.forkserver" in Path(entry.path, "cmdline").read_bytes()
            ):
                servers.add(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    yield from (pid for pid, parent in parents.items() if parent in servers)


# --- checking the outcome -------------------------------------------------------------------------


def stored_path(relative: str) -> str:
    """The relative path as Semantik records it: a name that is not UTF-8 keeps its bytes as \\xNN."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace")


def indexed_texts(collection: Collection) -> dict[str, str]:
    """Every document's indexed chunk texts, joined, by relative path (read back from Qdrant)."""
    store = get_vector_store()
    payloads = store.retrieve(
        collection.vector_collection, sorted(store.point_ids(collection.vector_collection))
    )
    texts: dict[str, list[tuple[int, str]]] = {}
    for payload in payloads.values():
        texts.setdefault(payload["path"], []).append((payload["chunk_index"], payload["text"]))
    return {path: " ".join(text for _, text in sorted(chunks)) for path, chunks in texts.items()}


def assert_outcomes(collection: Collection, expect: dict[str, Expect]) -> dict[str, str]:
    """Each entry came to what it must; no document exists that the corpus does not name."""
    documents = {d.relative_path: d for d in Document.objects.filter(collection=collection)}
    texts = indexed_texts(collection)
    wanted = {stored_path(r): e for r, e in expect.items() if e.outcome != ABSENT}
    assert sorted(set(documents) - set(wanted)) == [], "documents the corpus does not name"
    problems = []
    for relative, expected in sorted(wanted.items()):
        document = documents.get(relative)
        if document is None:
            problems.append(f"{relative!r}: lost (no document)")
            continue
        status, error = document.status, document.error
        if expected.outcome == INDEXED and status != Document.Status.INDEXED:
            problems.append(f"{relative!r}: {status}, expected indexed ({error})")
        elif expected.outcome == FAILED and status != Document.Status.FAILED:
            problems.append(f"{relative!r}: {status}, expected failed ({expected.reason})")
        elif expected.outcome == EITHER and status not in (Document.Status.INDEXED, Document.Status.FAILED):
            problems.append(f"{relative!r}: {status}, expected indexed or failed")
        if status == Document.Status.FAILED and not re.search(expected.reason or ".", error, re.I):
            problems.append(f"{relative!r}: failed with {error!r}, not matching {expected.reason!r}")
        if status == Document.Status.INDEXED:
            if document.chunk_count < 1 or relative not in texts:
                problems.append(f"{relative!r}: indexed without chunks in Qdrant")
            elif expected.phrase and expected.phrase not in texts[relative]:
                problems.append(f"{relative!r}: its chunks lack {expected.phrase!r}")
    assert problems == [], "\n".join(problems)
    assert not any(corpus.SECRET in text for text in texts.values()), (
        "text from outside the roots was indexed"
    )
    return {r: d.status for r, d in documents.items()}


# --- files that change under the indexer ----------------------------------------------------------


class Rewriter:
    """Rewrites one file (truncating it, then writing another version) and appends to another, in a
    loop, until stopped: files changing while they are hashed and read."""

    def __init__(self, rewritten: Path, growing: Path) -> None:
        self.rewritten, self.growing = rewritten, growing
        self.final = "Final version: the tide turned at noon."
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rewriter", daemon=True)
        self.rounds = 0

    def __enter__(self) -> Rewriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.rewritten.write_text(self.final)

    def _run(self) -> None:
        versions = [f"Version {i}: " + "waves " * (200 * (i + 1)) for i in range(3)]
        while not self._stop.is_set():
            for version in versions:
                with self.rewritten.open("w") as handle:
                    handle.write(version[: len(version) // 2])
                    handle.flush()
                    handle.write(version[len(version) // 2 :])
                with self.growing.open("a") as handle:
                    handle.write(f"line {self.rounds}: the gulls are loud today.\n")
                self.rounds += 1
            time.sleep(0.005)


def swap_after_scan(monkeypatch: pytest.MonkeyPatch, root: Path, outside: Path) -> dict[str, Expect]:
    """Files that are ordinary when scanned and something else when read: a symlink out of the
    roots, a FIFO (whose open would block), a deleted file. Done right after the real scan."""
    swap = root / "swap"
    swap.mkdir()
    for name in ("to-outside.txt", "to-fifo.txt", "deleted.txt", "to-dev-zero.txt"):
        (swap / name).write_text("Ordinary at scan time.")
    from semantik.documents import indexing

    real_scan = indexing.scan

    def scan_then_swap(*args: object, **kwargs: object) -> Iterator[object]:
        found = list(real_scan(*args, **kwargs))  # type: ignore[arg-type]
        (swap / "to-outside.txt").unlink()
        (swap / "to-outside.txt").symlink_to(outside / "secret.txt")
        (swap / "to-fifo.txt").unlink()
        os.mkfifo(swap / "to-fifo.txt")
        (swap / "deleted.txt").unlink()
        (swap / "to-dev-zero.txt").unlink()
        (swap / "to-dev-zero.txt").symlink_to("/dev/zero")
        return iter(found)

    monkeypatch.setattr(indexing, "scan", scan_then_swap)
    return {
        "swap/to-outside.txt": Expect(FAILED, "now leads outside the document roots"),
        "swap/to-fifo.txt": Expect(FAILED, "not a regular file"),
        "swap/deleted.txt": Expect(FAILED, "no longer exists"),
        "swap/to-dev-zero.txt": Expect(FAILED, "not a regular file"),
    }


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.timeout(900)
def test_a_hostile_corpus_indexes_or_fails_each_file_alone_within_bounded_memory(
    collection, documents_root, tmp_path, user, triton, limits, monkeypatch, capsys
):  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    expect = corpus.build(documents_root, outside)
    # Permission denied, for real: the operation runs without root's override (privileges.py).
    locked = documents_root / "denied" / "locked.txt"
    locked.parent.mkdir()
    locked.write_text("Nobody may read this.")
    locked.chmod(0)
    locked_dir = documents_root / "denied" / "locked-folder"
    locked_dir.mkdir()
    (locked_dir / "inside.txt").write_text("Behind a locked folder.")
    locked_dir.chmod(0)
    expect["denied/locked.txt"] = Expect(FAILED, "permission denied")
    expect["denied/locked-folder/inside.txt"] = Expect(ABSENT)
    expect.update(swap_after_scan(monkeypatch, documents_root, outside))
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with WorkerPeakRss() as workers:
            operation = run_operation(operation, without_override=True)
        _, main_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started

    assert operation.status == Operation.Status.COMPLETED, operation.error
    statuses = assert_outcomes(collection, expect)
    assert_exact(collection)
    indexed = sum(1 for s in statuses.values() if s == Document.Status.INDEXED)
    failed = sum(1 for s in statuses.values() if s == Document.Status.FAILED)
    assert (operation.files_processed, operation.files_failed) == (indexed, failed)
    assert workers.workers, "no extraction worker was seen"
    assert workers.peak < EXTRACTION_MEMORY, f"an extraction worker reached {workers.peak / 2**20:.0f} MB"
    assert main_peak < MAIN_PROCESS_PEAK, f"the indexing process allocated {main_peak / 2**20:.0f} MB"
    with capsys.disabled():
        print(
            f"\nhostile corpus: {len(statuses)} documents ({indexed} indexed, {failed} failed, "
            f"{sum(1 for e in expect.values() if e.outcome == ABSENT)} never documents) in {elapsed:.1f} s; "
            f"worker peak RSS {workers.peak / 2**20:.0f} MB, indexing process peak "
            f"{main_peak / 2**20:.0f} MB traced"
        )


@pytest.mark.timeout(600)
def test_files_changing_while_read_index_or_fail_alone_and_a_rescan_catches_up(
    collection, documents_root, user, triton, limits
):  # type: ignore[no-untyped-def]
    changing = documents_root / "changing"
    changing.mkdir()
    (changing / "rewritten.txt").write_text("Version zero.")
    (changing / "growing.log").write_text("line: first\n")
    (documents_root / "steady.txt").write_text("A file nobody touches stays indexed.")
    with Rewriter(changing / "rewritten.txt", changing / "growing.log") as rewriter:
        operation = run_operation(source_add(collection=collection, path=str(documents_root), user=user))
    assert rewriter.rounds > 0
    assert operation.status == Operation.Status.COMPLETED, operation.error
    assert_outcomes(
        collection,
        {
            "changing/rewritten.txt": Expect(EITHER, "no text|empty|changed|no longer"),
            "changing/growing.log": Expect(EITHER, "changed|no longer"),
            "steady.txt": Expect(INDEXED, phrase="nobody touches"),
        },
    )
    assert_exact(collection)

    # Once the files stop changing, a rescan brings every one of them in line: nothing is lost.
    rescan = run_operation(source_add(collection=collection, path=str(documents_root), user=user))
    assert rescan.status == Operation.Status.COMPLETED, rescan.error
    texts = indexed_texts(collection)
    assert "tide turned at noon" in texts["changing/rewritten.txt"]
    growing = Document.objects.get(relative_path="changing/growing.log")
    assert growing.status == Document.Status.INDEXED
    # The recorded hash is that of the file's bytes now, the bytes the indexed text came from.
    assert growing.content_hash == hashlib.sha256((changing / "growing.log").read_bytes()).hexdigest()
    assert "gulls are loud" in texts["changing/growing.log"]
    assert_exact(collection)


@pytest.mark.timeout(900)
def test_ten_thousand_tiny_files_all_index_exactly(
    collection, documents_root, user, triton, settings, capsys
):  # type: ignore[no-untyped-def]
    count = 10_000
    for folder in range(100):
        directory = documents_root / f"folder-{folder:03d}"
        directory.mkdir()
        for i in range(count // 100):
            (directory / f"note-{i:03d}.txt").write_text(f"Note {folder}-{i}: a tiny file.")
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    started = time.monotonic()
    operation = run_operation(operation)
    elapsed = time.monotonic() - started
    assert operation.status == Operation.Status.COMPLETED, operation.error
    assert (operation.files_total, operation.files_processed, operation.files_failed) == (count, count, 0)
    assert Document.objects.filter(collection=collection, status=Document.Status.INDEXED).count() == count
    assert get_vector_store().count(collection.vector_collection) == count
    assert_exact(collection)
    with capsys.disabled():
        print(f"\n10,000 tiny files: indexed in {elapsed:.1f} s ({count / elapsed:.0f} files/s)")
