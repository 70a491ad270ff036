"""Semantik's own counters follow what operations record."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from semantik.collections.models import Collection
from semantik.documents.services import source_add
from semantik.operations.services import ProgressRecorder, operation_complete

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_chunks_documents_and_finished_operations_are_counted(api, user, models, documents_root):  # type: ignore[no-untyped-def]
    created = api.post("/api/v2/collections", {"name": "Counted"}, format="json").json()
    operation = source_add(
        collection=Collection.objects.get(pk=created["id"]), path=str(documents_root), user=user
    )
    chunks = sample("semantik_chunks_indexed_total")
    indexed = sample("semantik_documents_processed_total", outcome="indexed")
    failed = sample("semantik_documents_processed_total", outcome="failed")
    finished = sample("semantik_operations_finished_total", type="index", status="completed")

    progress = ProgressRecorder(operation)
    progress.add(files_processed=1, chunks_written=5)
    progress.add(files_processed=1, chunks_written=2)
    progress.add(files_failed=1)
    operation_complete(operation)

    assert sample("semantik_chunks_indexed_total") - chunks == 7
    assert sample("semantik_documents_processed_total", outcome="indexed") - indexed == 2
    assert sample("semantik_documents_processed_total", outcome="failed") - failed == 1
    assert sample("semantik_operations_finished_total", type="index", status="completed") - finished == 1
