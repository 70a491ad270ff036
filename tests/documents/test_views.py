"""Adding sources."""

from __future__ import annotations

import uuid

import pytest

from semantik.documents.models import Document
from semantik.operations.models import Operation
from semantik.vectors.naming import point_id

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


def run_pending(collection_id: str) -> None:
    """Run the collection's queued operation as the worker would."""
    from semantik.documents.services import source_index, source_remove_run

    operation = Operation.objects.get(collection_id=collection_id, status="pending")
    run = source_remove_run if operation.type == "remove_source" else source_index
    run(str(operation.id))


def test_documents_are_listed_by_status_and_readable(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "good.txt").write_text("Some words.")
    (documents_root / "bad.txt").write_bytes(b"\x00\x01")
    api.post(f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json")
    run_pending(collection["id"])
    base = f"/api/v2/collections/{collection['id']}/documents"
    assert api.get(base).json()["count"] == 2
    failed = api.get(f"{base}?status=failed").json()["results"]
    assert [d["relative_path"] for d in failed] == ["bad.txt"] and "binary" in failed[0]["error"]
    detail = api.get(f"{base}/{failed[0]['id']}").json()
    assert detail["status"] == "failed"
    assert api.get(f"{base}?status=weird").status_code == 400
    assert api.get(f"{base}/{uuid.uuid4()}").status_code == 404


def test_removing_a_source_removes_its_documents_and_vectors(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    from semantik.collections.models import Collection
    from semantik.vectors import get_vector_store

    for name in ("a", "b"):
        (documents_root / name).mkdir()
        (documents_root / name / "doc.txt").write_text(f"Text in folder {name}.")
    base = f"/api/v2/collections/{collection['id']}/sources"
    for name in ("a", "b"):
        api.post(base, {"path": str(documents_root / name)}, format="json")
        run_pending(collection["id"])
    sources = {s["path"]: s["id"] for s in api.get(base).json()["results"]}
    removed = api.delete(f"{base}/{sources[str(documents_root / 'a')]}")
    assert removed.status_code == 202 and removed.json()["type"] == "remove_source"
    run_pending(collection["id"])
    assert [s["path"] for s in api.get(base).json()["results"]] == [str(documents_root / "b")]
    remaining = api.get(f"/api/v2/collections/{collection['id']}/documents").json()["results"]
    assert [d["path"] for d in remaining] == [str(documents_root / "b" / "doc.txt")]
    remaining_document = Document.objects.get()
    expected = {
        point_id(collection["id"], remaining_document.pk, i) for i in range(remaining_document.chunk_count)
    }
    vector_collection = Collection.objects.get(pk=collection["id"]).vector_collection
    assert get_vector_store().point_ids(vector_collection) == expected


def test_rescan_of_a_source_queues_a_rescan(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    base = f"/api/v2/collections/{collection['id']}/sources"
    api.post(base, {"path": str(documents_root)}, format="json")
    run_pending(collection["id"])
    source_id = api.get(base).json()["results"][0]["id"]
    response = api.post(f"{base}/{source_id}/rescan")
    assert response.status_code == 202 and response.json()["type"] == "rescan"
    assert api.post(f"{base}/{uuid.uuid4()}/rescan").status_code == 404
