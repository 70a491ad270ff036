"""Adding sources."""

from __future__ import annotations

import uuid

import pytest

from semantik.operations.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collection(api, models):  # type: ignore[no-untyped-def]
    return api.post("/api/v2/collections", {"name": "Docs"}, format="json").json()


def test_a_path_outside_the_document_roots_is_400_and_queues_nothing(
    api, collection, documents_root, tmp_path
):  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for path in [str(outside), "/etc", "../elsewhere", str(documents_root / ".." / "elsewhere")]:
        response = api.post(f"/api/v2/collections/{collection['id']}/sources", {"path": path}, format="json")
        assert response.status_code == 400, path
        assert "outside the document roots" in response.json()["error"]["message"]
    assert not Operation.objects.exists()


def test_a_missing_folder_is_400(api, collection, documents_root):  # type: ignore[no-untyped-def]
    response = api.post(
        f"/api/v2/collections/{collection['id']}/sources",
        {"path": str(documents_root / "nope")},
        format="json",
    )
    assert response.status_code == 400
    assert "not a folder" in response.json()["error"]["message"]


def test_sources_of_a_missing_collection_are_404(api, documents_root):  # type: ignore[no-untyped-def]
    response = api.post(
        f"/api/v2/collections/{uuid.uuid4()}/sources", {"path": str(documents_root)}, format="json"
    )
    assert response.status_code == 404


def test_a_second_write_operation_while_one_runs_is_409(api, collection, documents_root):  # type: ignore[no-untyped-def]
    (documents_root / "a").mkdir()
    first = api.post(
        f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root / "a")}, format="json"
    )
    assert first.status_code == 202
    # No worker runs in this test, so the first operation stays pending.
    second = api.post(
        f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root / "a")}, format="json"
    )
    assert second.status_code == 409
    assert first.json()["operation_id"] in second.json()["error"]["message"]
