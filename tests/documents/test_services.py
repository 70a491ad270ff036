"""Indexing a source: incremental, exact, and failing one document at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.documents.services import source_add, source_index
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
from semantik.vectors.naming import point_id

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/collections", {"name": "Library", "chunk_size": 32, "chunk_overlap": 8}, format="json"
    ).json()
    return Collection.objects.get(pk=body["id"])


def index(collection: Collection, folder: Path, user) -> Operation:  # type: ignore[no-untyped-def]
    """Run the operation synchronously, as the worker would."""
    operation = source_add(collection=collection, path=str(folder), user=user)
    source_index(str(operation.id))
    operation.refresh_from_db()
    return operation


def assert_exact(collection: Collection) -> None:
    """Qdrant holds exactly the chunks of the current indexed documents: no orphans, no duplicates."""
    expected = {
        point_id(collection.pk, d.pk, i)
        for d in Document.objects.filter(collection=collection, status=Document.Status.INDEXED)
        for i in range(d.chunk_count)
    }
    assert get_vector_store().point_ids(collection.vector_collection) == expected


def long_text(topic: str, sentences: int = 30) -> str:
    return " ".join(f"Sentence {i} is about {topic} and nothing else." for i in range(sentences))


def test_indexing_writes_chunks_for_every_document(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    (documents_root / "a.txt").write_text(long_text("apples"))
    (documents_root / "b.md").write_text("# Bees\n\nBees make honey.")
    operation = index(collection, documents_root, user)
    assert operation.status == "completed", operation.error
    assert (operation.files_total, operation.files_processed, operation.files_failed) == (2, 2, 0)
    a = Document.objects.get(relative_path="a.txt")
    assert a.chunk_count > 1 and a.status == "indexed"
    assert operation.chunks_written == a.chunk_count + 1
    assert_exact(collection)
    collection.refresh_from_db()
    assert collection.status == "ready"


def test_rescan_skips_unchanged_replaces_modified_and_removes_deleted(
    collection, documents_root, user, triton
):  # type: ignore[no-untyped-def]
    for name in ("keep", "change", "delete"):
        (documents_root / f"{name}.txt").write_text(long_text(name))
    index(collection, documents_root, user)
    changed = Document.objects.get(relative_path="change.txt")

    (documents_root / "change.txt").write_text("Now it is short.")
    (documents_root / "delete.txt").unlink()
    (documents_root / "new.txt").write_text("A new arrival.")
    operation = index(collection, documents_root, user)

    assert operation.status == "completed"
    assert (operation.files_skipped, operation.files_processed) == (1, 2)
    assert sorted(Document.objects.values_list("relative_path", flat=True)) == [
        "change.txt",
        "keep.txt",
        "new.txt",
    ]
    changed.refresh_from_db()
    assert changed.chunk_count == 1
    assert_exact(collection)


def test_a_touched_but_identical_file_is_skipped_by_its_hash(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    path = documents_root / "same.txt"
    path.write_text("Unchanged content.")
    index(collection, documents_root, user)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    operation = index(collection, documents_root, user)
    assert operation.files_skipped == 1 and operation.files_processed == 0
    assert Document.objects.get().mtime == 1_000_000_000


def test_a_bad_file_fails_that_document_not_the_operation(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    (documents_root / "good.txt").write_text("Readable text.")
    (documents_root / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (documents_root / "empty.md").write_text("")
    operation = index(collection, documents_root, user)
    assert operation.status == "completed"
    assert (operation.files_processed, operation.files_failed) == (1, 2)
    failed = {d.relative_path: d.error for d in Document.objects.filter(status="failed")}
    assert "binary" in failed["binary.txt"] and "no text" in failed["empty.md"]
    assert_exact(collection)


def test_a_document_that_becomes_unreadable_loses_its_old_chunks(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    path = documents_root / "doc.txt"
    path.write_text(long_text("fragile"))
    index(collection, documents_root, user)
    path.write_bytes(b"\x00" * 64)
    index(collection, documents_root, user)
    assert Document.objects.get().status == "failed"
    assert get_vector_store().count(collection.vector_collection) == 0


def test_running_the_same_operation_twice_does_not_duplicate(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    (documents_root / "a.txt").write_text(long_text("retries"))
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    source_index(str(operation.id))
    # A redelivered task for the same operation is a no-op once the operation has ended.
    source_index(str(operation.id))
    assert_exact(collection)


def test_triton_down_fails_the_operation_with_a_clear_reason(collection, documents_root, user, settings):  # type: ignore[no-untyped-def]
    from semantik.inference.runtime import reset_embedders
    from semantik.stack.ports import find_free_port

    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"
    settings.TRITON_TIMEOUT_S = 2
    reset_embedders()
    (documents_root / "a.txt").write_text("text")
    operation = index(collection, documents_root, user)
    assert operation.status == "failed"
    assert "Triton" in operation.error
    collection.refresh_from_db()
    assert collection.status == "error"


def test_batches_that_span_documents_write_every_chunk_exactly(
    collection, documents_root, user, triton, settings
):  # type: ignore[no-untyped-def]
    settings.BATCH_SIZE = 3
    for i, sentences in enumerate([1, 12, 2, 30, 5]):
        (documents_root / f"{i}.txt").write_text(long_text(f"topic {i}", sentences))
    operation = index(collection, documents_root, user)
    assert operation.status == "completed", operation.error
    assert operation.files_processed == 5
    assert operation.chunks_written == sum(d.chunk_count for d in Document.objects.all())
    assert_exact(collection)


class QdrantFailingAfter:
    """The real store, made to fail from its Nth upsert on: Qdrant going away mid-operation."""

    def __init__(self, store, upserts_before_failure: int) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.left = upserts_before_failure

    def upsert(self, name, points):  # type: ignore[no-untyped-def]
        from semantik.vectors.base import VectorStoreUnavailable

        if self.left == 0:
            raise VectorStoreUnavailable("Qdrant went away (injected)")
        self.left -= 1
        return self.store.upsert(name, points)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


def test_qdrant_failing_mid_operation_leaves_no_partial_document(
    collection, documents_root, user, triton, settings, monkeypatch
):  # type: ignore[no-untyped-def]
    settings.BATCH_SIZE = 4
    for i in range(6):
        (documents_root / f"{i}.txt").write_text(long_text(f"subject {i}", 12))
    failing = QdrantFailingAfter(get_vector_store(), upserts_before_failure=3)
    monkeypatch.setattr("semantik.documents.services.get_vector_store", lambda: failing)
    operation = index(collection, documents_root, user)
    assert operation.status == "failed" and "injected" in operation.error
    assert Document.objects.filter(status="indexed").count() < 6
    assert_exact(collection)

    monkeypatch.undo()
    retried = index(collection, documents_root, user)
    assert retried.status == "completed"
    assert Document.objects.filter(status="indexed").count() == 6
    assert_exact(collection)


def test_narrowing_a_sources_globs_removes_what_they_no_longer_admit(
    collection, documents_root, user, triton
):  # type: ignore[no-untyped-def]
    (documents_root / "keep.md").write_text("Markdown stays.")
    (documents_root / "drop.txt").write_text("Text goes.")
    index(collection, documents_root, user)
    assert Document.objects.count() == 2
    operation = source_add(collection=collection, path=str(documents_root), user=user, include=["*.md"])
    source_index(str(operation.id))
    assert list(Document.objects.values_list("relative_path", flat=True)) == ["keep.md"]
    assert_exact(collection)


def test_renaming_a_file_moves_its_chunks_to_the_new_name(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    (documents_root / "old.txt").write_text(long_text("renames"))
    index(collection, documents_root, user)
    (documents_root / "old.txt").rename(documents_root / "new.txt")
    index(collection, documents_root, user)
    assert list(Document.objects.values_list("relative_path", flat=True)) == ["new.txt"]
    assert_exact(collection)


def test_lines_logged_while_an_operation_runs_carry_its_id(collection, documents_root, user, settings):  # type: ignore[no-untyped-def]
    import logging

    from semantik.inference.runtime import reset_embedders
    from semantik.stack.ports import find_free_port
    from tests.logs.capture import json_lines

    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"
    settings.TRITON_TIMEOUT_S = 2
    reset_embedders()
    (documents_root / "a.txt").write_text("text")
    with json_lines() as lines:
        operation = index(collection, documents_root, user)
        logging.getLogger("tests.documents").info("after the operation")
    failed = [e for e in lines.entries if e["message"].startswith(f"Operation {operation.id} failed")]
    assert failed and all(e["operation_id"] == str(operation.id) for e in failed)
    # Once it has ended, nothing claims to be part of it any more.
    assert "operation_id" not in lines.entries[-1]
