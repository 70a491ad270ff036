"""Periodic sync: a collection with a sync interval rescans every source once the interval passes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from semantik.collections.models import Collection
from semantik.documents.models import Document, Source
from semantik.documents.services import collections_sync_due, source_index
from semantik.operations.models import Operation
from semantik.operations.services import operation_create
from tests.documents.test_services import assert_exact, index, long_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Notes", "chunk_size": 48}, format="json").json()
    return Collection.objects.get(pk=body["id"])


@pytest.fixture
def two_sources(collection, documents_root, user, triton):  # type: ignore[no-untyped-def]
    for name in ("work", "home"):
        folder = documents_root / name
        folder.mkdir()
        (folder / f"{name}.txt").write_text(long_text(name))
        assert index(collection, folder, user).status == "completed"
    return documents_root / "work", documents_root / "home"


def age_scans(collection: Collection, minutes: int) -> None:
    Source.objects.filter(collection=collection).update(
        last_scanned_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_the_interval_is_set_through_the_api_and_validated(collection, api):  # type: ignore[no-untyped-def]
    url = f"/api/v2/collections/{collection.pk}"
    assert api.patch(url, {"sync_interval_minutes": 60}, format="json").json()["sync_interval_minutes"] == 60
    assert api.patch(url, {"sync_interval_minutes": 1}, format="json").status_code == 400
    assert api.patch(url, {"name": "Renamed"}, format="json").json()["sync_interval_minutes"] == 60
    assert (
        api.patch(url, {"sync_interval_minutes": None}, format="json").json()["sync_interval_minutes"] is None
    )


def test_a_due_sync_rescans_every_source(collection, two_sources, user):  # type: ignore[no-untyped-def]
    work, home = two_sources
    (work / "new.txt").write_text("A note written after the last scan.")
    (home / "home.txt").unlink()
    Collection.objects.filter(pk=collection.pk).update(sync_interval_minutes=30)
    age_scans(collection, 31)

    [operation] = collections_sync_due()
    assert operation.type == "sync" and operation.user == user
    source_index(str(operation.id))
    operation.refresh_from_db()

    assert operation.status == "completed", operation.error
    assert (operation.files_total, operation.files_processed, operation.files_skipped) == (2, 1, 1)
    assert sorted(Document.objects.values_list("relative_path", flat=True)) == ["new.txt", "work.txt"]
    assert_exact(collection)
    # Both sources were just scanned: nothing is due until the interval passes again.
    assert collections_sync_due() == []


def test_no_sync_before_the_interval_or_without_one(collection, two_sources):  # type: ignore[no-untyped-def]
    age_scans(collection, 31)
    assert collections_sync_due() == []  # no interval set
    Collection.objects.filter(pk=collection.pk).update(sync_interval_minutes=60)
    assert collections_sync_due() == []  # scanned 31 minutes ago
    assert Operation.objects.filter(type="sync").count() == 0


def test_a_busy_collection_is_synced_on_a_later_round(collection, two_sources, user):  # type: ignore[no-untyped-def]
    Collection.objects.filter(pk=collection.pk).update(sync_interval_minutes=30)
    age_scans(collection, 31)
    busy = operation_create(collection=collection, user=user, type=Operation.Type.RESCAN, params={})
    assert collections_sync_due() == []
    Operation.objects.filter(pk=busy.pk).update(status=Operation.Status.COMPLETED)
    assert [op.type for op in collections_sync_due()] == ["sync"]


def test_the_beat_schedule_runs_the_sync(settings):  # type: ignore[no-untyped-def]
    from semantik.documents.tasks import sync_collections

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert sync_collections.name in tasks
