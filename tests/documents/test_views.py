"""Adding sources."""

from __future__ import annotations

import uuid

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
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


def test_a_folder_inside_the_upload_root_is_not_a_source(api, collection, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DOCUMENT_PATH = [tmp_path.resolve()]
    settings.UPLOAD_ROOT = (tmp_path / "uploads").resolve()
    (tmp_path / "uploads" / str(uuid.uuid4())).mkdir(parents=True)
    for folder in (tmp_path / "uploads", next((tmp_path / "uploads").iterdir())):
        response = api.post(
            f"/api/v2/collections/{collection['id']}/sources", {"path": str(folder)}, format="json"
        )
        assert response.status_code == 400
        assert "files sent through the API" in response.json()["error"]["message"]


def test_a_documents_chunks_come_in_pages_in_order_and_fit_its_text(api, documents_root, models, triton):  # type: ignore[no-untyped-def]
    created = api.post(
        "/api/v2/collections", {"name": "Small", "chunk_size": 32, "chunk_overlap": 8}, format="json"
    )
    collection_id = created.json()["id"]
    text = " ".join(f"Sentence {i} is about lighthouses and nothing else." for i in range(30))
    (documents_root / "long.txt").write_text(text)
    api.post(f"/api/v2/collections/{collection_id}/sources", {"path": str(documents_root)}, format="json")
    run_pending(collection_id)
    document = Document.objects.get()
    assert document.chunk_count > 6

    detail = api.get(f"/api/v2/documents/{document.pk}").json()
    assert detail == api.get(f"/api/v2/collections/{collection_id}/documents/{document.pk}").json()
    assert detail["chunk_count"] == document.chunk_count

    url = f"/api/v2/documents/{document.pk}/chunks"
    first = api.get(f"{url}?page_size=3").json()
    assert first["count"] == document.chunk_count and first["previous"] is None
    assert [c["index"] for c in first["results"]] == [0, 1, 2]
    second = api.get(first["next"]).json()
    assert [c["index"] for c in second["results"]] == [3, 4, 5]
    everything = api.get(f"{url}?page_size=500").json()["results"]
    assert [c["index"] for c in everything] == list(range(document.chunk_count))
    for chunk in everything:
        assert set(chunk) >= {"index", "text", "start", "end", "page"}
        assert not set(chunk) & {"document_id", "source_id", "path", "chunk_index", "mtime"}
        assert chunk["text"] == text[chunk["start"] : chunk["end"]]
    window = api.get(
        f"/api/v2/documents/{document.pk}/text?start={everything[4]['start']}&end={everything[4]['end']}"
    ).json()
    assert window["text"] == everything[4]["text"]
    assert api.get(f"{url}?page=99").status_code == 404


def test_retry_indexes_a_failed_document_again_and_nothing_else(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "good.txt").write_text("Readable text.")
    (documents_root / "broken.txt").write_bytes(b"\x00\x01" * 64)
    api.post(f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json")
    run_pending(collection["id"])
    failed = api.get(f"/api/v2/collections/{collection['id']}/documents?status=failed").json()["results"]
    assert [d["relative_path"] for d in failed] == ["broken.txt"] and "binary" in failed[0]["error"]

    (documents_root / "broken.txt").write_text("Mended text.")
    (documents_root / "good.txt").write_text("Changed, but nobody asked for a rescan.")
    (documents_root / "new.txt").write_text("Not scanned by a retry.")
    response = api.post(f"/api/v2/documents/{failed[0]['id']}/retry")
    assert response.status_code == 202 and response.json()["type"] == "retry"
    run_pending(collection["id"])

    operation = Operation.objects.get(pk=response.json()["operation_id"])
    assert (operation.status, operation.files_total, operation.files_processed) == ("completed", 1, 1)
    mended = Document.objects.get(pk=failed[0]["id"])
    assert (mended.status, mended.error, mended.chunk_count) == ("indexed", "", 1)
    good = Document.objects.get(relative_path="good.txt")
    assert good.size == len("Readable text.")
    assert sorted(Document.objects.values_list("relative_path", flat=True)) == ["broken.txt", "good.txt"]
    expected = {
        point_id(collection["id"], d.pk, i) for d in Document.objects.all() for i in range(d.chunk_count)
    }
    vector_collection = Collection.objects.get(pk=collection["id"]).vector_collection
    assert get_vector_store().point_ids(vector_collection) == expected


def test_retry_is_for_failed_documents_one_operation_at_a_time(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "good.txt").write_text("Readable text.")
    (documents_root / "broken.txt").write_bytes(b"\x00\x01" * 64)
    api.post(f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json")
    run_pending(collection["id"])
    good, broken = (Document.objects.get(relative_path=name) for name in ("good.txt", "broken.txt"))

    not_failed = api.post(f"/api/v2/documents/{good.pk}/retry")
    assert not_failed.status_code == 400 and "only a failed document" in not_failed.json()["error"]["message"]
    rescan = api.post(f"/api/v2/collections/{collection['id']}/sources/{good.source_id}/rescan")
    busy = api.post(f"/api/v2/documents/{broken.pk}/retry")
    assert busy.status_code == 409 and rescan.json()["operation_id"] in busy.json()["error"]["message"]


def test_another_users_documents_are_404(api, collection, documents_root, make_user, client_for, triton):  # type: ignore[no-untyped-def]
    (documents_root / "broken.txt").write_bytes(b"\x00\x01" * 64)
    api.post(f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json")
    run_pending(collection["id"])
    document = Document.objects.get()
    mallory = client_for(make_user("mallory"))
    for suffix in ("", "/chunks", "/content", "/text"):
        response = mallory.get(f"/api/v2/documents/{document.pk}{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["error"]["code"] == "not_found"
    assert mallory.post(f"/api/v2/documents/{document.pk}/retry").status_code == 404
    assert api.get(f"/api/v2/documents/{uuid.uuid4()}").status_code == 404
    assert not Operation.objects.filter(type="retry").exists()
