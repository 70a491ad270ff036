"""Operations: reading, listing and cancelling."""

from __future__ import annotations

import uuid

import pytest

from semantik.collections.models import Collection
from semantik.documents.services import source_add, source_index
from semantik.operations.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Ops"}, format="json").json()
    return Collection.objects.get(pk=body["id"])


def test_cancelling_a_pending_operation_ends_it_at_once(api, collection, documents_root, user):  # type: ignore[no-untyped-def]
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    response = api.post(f"/api/v2/operations/{operation.id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    # The queued task then finds nothing to do.
    source_index(str(operation.id))
    operation.refresh_from_db()
    assert operation.status == "cancelled" and operation.files_processed == 0


def test_a_running_operation_stops_at_the_next_file_when_cancelled(
    api, collection, documents_root, user, triton
):  # type: ignore[no-untyped-def]
    for i in range(3):
        (documents_root / f"{i}.txt").write_text(f"Document number {i}.")
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    Operation.objects.filter(pk=operation.pk).update(status="processing")
    assert api.post(f"/api/v2/operations/{operation.id}/cancel").json()["cancel_requested"] is True
    source_index(str(operation.id))
    operation.refresh_from_db()
    assert operation.status == "cancelled"
    assert operation.files_processed == 0
    collection.refresh_from_db()
    assert collection.status == "empty"


def test_cancelling_an_ended_operation_is_409(api, collection, documents_root, user):  # type: ignore[no-untyped-def]
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    api.post(f"/api/v2/operations/{operation.id}/cancel")
    assert api.post(f"/api/v2/operations/{operation.id}/cancel").status_code == 409


def test_operations_are_listed_with_filters_and_hidden_from_others(
    api, client_for, make_user, collection, documents_root, user
):  # type: ignore[no-untyped-def]
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    listed = api.get(f"/api/v2/operations?collection={collection.pk}&status=pending").json()
    assert [o["id"] for o in listed["results"]] == [str(operation.id)]
    assert api.get("/api/v2/operations?status=completed").json()["results"] == []
    stranger = client_for(make_user("eve"))
    assert stranger.get(f"/api/v2/operations/{operation.id}").status_code == 404
    assert stranger.post(f"/api/v2/operations/{operation.id}/cancel").status_code == 404
    assert stranger.get("/api/v2/operations").json()["count"] == 0


def test_a_missing_operation_is_a_clear_404(api):  # type: ignore[no-untyped-def]
    missing = uuid.uuid4()
    response = api.get(f"/api/v2/operations/{missing}")
    assert response.status_code == 404 and str(missing) in response.json()["error"]["message"]
