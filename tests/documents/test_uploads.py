"""Uploads: names checked, limits kept, files stored atomically in the collection's folder, indexed."""

from __future__ import annotations

import os
import time
import unicodedata
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.exceptions import ValidationError

from semantik.api import Conflict
from semantik.collections.models import Collection
from semantik.documents.models import Document, Source
from semantik.documents.services import source_index, source_remove_run, upload_add
from semantik.documents.uploads import STAGING_FOLDER, StagedFile, upload_relative_path, uploads_place
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
from semantik.vectors.naming import point_id

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = "semantik-test-boundary"


@pytest.fixture
def collection(api, models, upload_root):  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/collections", {"name": "Inbox", "chunk_size": 32, "chunk_overlap": 8}, format="json"
    ).json()
    return Collection.objects.get(pk=body["id"])


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart body written by hand: (field, file name or None for a plain field, content).

    Test clients shorten file names to their last part; a hostile client does not.
    """
    body = b""
    for field, file_name, content in parts:
        disposition = f'form-data; name="{field}"'
        if file_name is not None:
            disposition += f'; filename="{file_name}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def upload(api, collection: Collection | uuid.UUID, *parts: tuple[str, str | None, bytes]):  # type: ignore[no-untyped-def]
    collection_id = collection.pk if isinstance(collection, Collection) else collection
    return api.generic(
        "POST",
        f"/api/v2/collections/{collection_id}/uploads",
        multipart(*parts),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def run_pending(collection: Collection) -> Operation:
    """Run the collection's queued operation as the worker would."""
    operation = Operation.objects.get(collection=collection, status="pending")
    (source_remove_run if operation.type == "remove_source" else source_index)(str(operation.id))
    operation.refresh_from_db()
    return operation


def stored_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def assert_exact(collection: Collection) -> None:
    """Qdrant holds exactly the chunks of the indexed documents: vector count == sum of chunk counts."""
    documents = Document.objects.filter(collection=collection, status=Document.Status.INDEXED)
    expected = {point_id(collection.pk, d.pk, i) for d in documents for i in range(d.chunk_count)}
    store = get_vector_store()
    assert store.point_ids(collection.vector_collection) == expected
    assert store.count(collection.vector_collection) == sum(d.chunk_count for d in documents)


def long_text(topic: str, sentences: int = 30) -> str:
    return " ".join(f"Sentence {i} is about {topic} and nothing else." for i in range(sentences))


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("notes.md", "notes.md"),
        ("trip/day 1/notes.md", "trip/day 1/notes.md"),
        ("trip\\notes.txt", "trip/notes.txt"),
        (unicodedata.normalize("NFD", "café.txt"), "café.txt"),
    ],
)
def test_a_relative_path_is_kept_with_its_folders(raw: str, stored: str) -> None:
    assert upload_relative_path(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("../escape.txt", "'..'"),
        ("notes/../../escape.txt", "'..'"),
        ("..\\escape.txt", "'..'"),
        ("/etc/motd.txt", "absolute"),
        ("C:/Users/me/a.txt", "absolute"),
        ("a\x00.txt", "NUL"),
        (".env.txt", "hidden"),
        ("repo/.git/notes.txt", "hidden"),
        ("", "empty"),
        ("  ", "empty"),
        ("a//b.txt", "empty"),
        ("a/./b.txt", "empty"),
        ("line\nbreak.txt", "control"),
        ("x" * 256 + ".txt", "255 bytes"),
        ("photo.jpeg", "cannot read"),
    ],
)
def test_a_name_that_could_escape_hide_or_not_be_read_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        upload_relative_path(raw)


def test_uploaded_files_are_stored_and_indexed_by_the_worker(
    api, collection, upload_root, celery_worker, triton
):  # type: ignore[no-untyped-def]
    response = api.post(
        f"/api/v2/collections/{collection.pk}/uploads",
        {
            "files": [
                SimpleUploadedFile("lighthouse.md", b"# Log\n\nThe keeper trimmed the wick."),
                SimpleUploadedFile("garden.txt", b"Tomatoes need sun."),
            ],
            "paths": ["journal/lighthouse.md", "garden.txt"],
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["type"] == "upload" and body["status"] == "pending"
    assert body["files"] == [
        {"relative_path": "journal/lighthouse.md", "size": 35},
        {"relative_path": "garden.txt", "size": 18},
    ]
    folder = upload_root / str(collection.pk)
    assert stored_files(folder) == ["garden.txt", "journal/lighthouse.md"]
    assert (folder / "garden.txt").read_bytes() == b"Tomatoes need sun."
    assert stored_files(upload_root / STAGING_FOLDER) == []

    deadline = time.monotonic() + 120
    while (
        operation := Operation.objects.get(pk=body["operation_id"])
    ).status not in Operation.FINAL_STATUSES:
        assert time.monotonic() < deadline, "the upload was not indexed in time"
        time.sleep(0.2)
    assert operation.status == "completed", operation.error
    assert (operation.files_total, operation.files_processed) == (2, 2)
    source = Source.objects.get(pk=body["source_id"])
    assert (source.kind, source.path) == ("upload", str(folder))
    listed = api.get(f"/api/v2/collections/{collection.pk}/sources").json()["results"]
    assert [(s["kind"], s["document_count"]) for s in listed] == [("upload", 2)]
    documents = api.get(f"/api/v2/collections/{collection.pk}/documents").json()["results"]
    assert [(d["relative_path"], d["status"]) for d in documents] == [
        ("garden.txt", "indexed"),
        ("journal/lighthouse.md", "indexed"),
    ]
    assert_exact(collection)


def test_uploading_a_name_again_replaces_its_document_and_skips_unchanged_content(
    api, collection, upload_root, triton
):  # type: ignore[no-untyped-def]
    first = upload(
        api,
        collection,
        ("files", "change.txt", long_text("apples").encode()),
        ("files", "same.txt", long_text("pears").encode()),
    )
    assert first.status_code == 202, first.content
    run_pending(collection)
    changed = Document.objects.get(relative_path="change.txt")
    assert changed.chunk_count > 1

    again = upload(
        api,
        collection,
        ("files", "change.txt", b"Now it is short."),
        ("files", "same.txt", long_text("pears").encode()),
    )
    assert again.status_code == 202, again.content
    operation = run_pending(collection)

    assert operation.status == "completed", operation.error
    assert (operation.files_processed, operation.files_skipped) == (1, 1)
    assert Source.objects.filter(collection=collection).count() == 1
    replaced = Document.objects.get(relative_path="change.txt")
    assert replaced.pk == changed.pk and replaced.chunk_count == 1
    assert (upload_root / str(collection.pk) / "change.txt").read_bytes() == b"Now it is short."
    assert_exact(collection)


def test_a_file_over_the_size_limit_is_413_naming_it_and_nothing_is_stored(
    api, collection, upload_root, settings
):  # type: ignore[no-untyped-def]
    settings.UPLOAD_MAX_BYTES = 100
    response = upload(api, collection, ("files", "small.txt", b"x" * 10), ("files", "big.txt", b"y" * 101))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "'big.txt'" in error["message"]
    assert stored_files(upload_root) == []
    assert not Operation.objects.exists() and not Source.objects.exists()


def test_a_request_over_the_request_limit_is_413(api, collection, upload_root, settings):  # type: ignore[no-untyped-def]
    settings.UPLOAD_MAX_REQUEST_BYTES = 500
    response = upload(api, collection, ("files", "a.txt", b"a" * 300), ("files", "b.txt", b"b" * 300))
    assert response.status_code == 413
    assert "UPLOAD_MAX_REQUEST_BYTES" in response.json()["error"]["message"]
    assert stored_files(upload_root) == []
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("refused", "parts"),
    [
        pytest.param("../escape.txt", [("files", "../escape.txt", b"x")], id="file-name-with-dots"),
        pytest.param("/tmp/escape.txt", [("files", "/tmp/escape.txt", b"x")], id="absolute-file-name"),
        pytest.param(".hidden.txt", [("files", ".hidden.txt", b"x")], id="hidden-file-name"),
        pytest.param(
            "../escape.txt",
            [("files", "a.txt", b"x"), ("paths", None, b"fine.txt"), ("paths", None, b"../escape.txt")],
            id="path-with-dots",
        ),
        pytest.param(
            "/etc/escape.txt",
            [("files", "a.txt", b"x"), ("paths", None, b"fine.txt"), ("paths", None, b"/etc/escape.txt")],
            id="absolute-path",
        ),
    ],
)
def test_a_name_that_leaves_the_folder_is_400_naming_it_and_nothing_is_stored(
    api, collection, upload_root, tmp_path, refused, parts
):  # type: ignore[no-untyped-def]
    response = upload(api, collection, ("files", "fine.txt", b"fine"), *parts)
    assert response.status_code == 400, response.content
    assert f"{refused!r} is refused" in response.json()["error"]["message"]
    assert stored_files(upload_root) == [] and not list(tmp_path.rglob("*escape*"))
    assert not Operation.objects.exists() and not Source.objects.exists()


def test_paths_must_match_the_files_one_to_one(api, collection, upload_root):  # type: ignore[no-untyped-def]
    response = upload(
        api, collection, ("files", "a.txt", b"a"), ("files", "b.txt", b"b"), ("paths", None, b"x.txt")
    )
    assert response.status_code == 400
    assert "one path per file" in response.json()["error"]["message"]
    twice = upload(api, collection, ("files", "a.txt", b"a"), ("files", "a.txt", b"b"))
    assert twice.status_code == 400 and "more than once" in twice.json()["error"]["message"]
    nothing = upload(api, collection, ("note", None, b"no files"))
    assert nothing.status_code == 400 and "at least one file" in nothing.json()["error"]["message"]
    assert stored_files(upload_root) == []


def test_an_upload_while_an_operation_runs_is_409_and_stores_nothing(api, collection, upload_root):  # type: ignore[no-untyped-def]
    first = upload(api, collection, ("files", "first.txt", b"first"))
    assert first.status_code == 202
    # No worker runs in this test, so the first upload's operation stays pending.
    second = upload(api, collection, ("files", "second.txt", b"second"), ("files", "first.txt", b"changed"))
    assert second.status_code == 409
    assert first.json()["operation_id"] in second.json()["error"]["message"]
    folder = upload_root / str(collection.pk)
    assert stored_files(folder) == ["first.txt"] and (folder / "first.txt").read_bytes() == b"first"
    assert stored_files(upload_root / STAGING_FOLDER) == []


def staged(upload_root: Path, name: str, content: bytes) -> StagedFile:
    staging = upload_root / STAGING_FOLDER
    staging.mkdir(parents=True, exist_ok=True)
    file = StagedFile(staging, name, "text/plain", None, None)
    file.write(content)
    file.flush()
    file.size = len(content)
    return file


def test_an_operation_that_starts_while_an_upload_is_read_still_stops_it_storing(
    collection, upload_root, user
):  # type: ignore[no-untyped-def]
    # The view's early check passed; then another operation started before the files moved in.
    Operation.objects.create(collection=collection, user=user, type="rescan")
    with pytest.raises(Conflict):
        upload_add(collection=collection, user=user, files=[staged(upload_root, "late.txt", b"late")])
    assert not (upload_root / str(collection.pk)).exists()
    assert not Source.objects.exists()


def test_a_file_where_a_folder_must_go_refuses_the_whole_upload(tmp_path, upload_root) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "report.txt").write_text("a file")
    with pytest.raises(ValidationError, match="'report.txt' to be a folder, but it is a file"):
        uploads_place(
            folder,
            [
                ("fine.txt", staged(upload_root, "fine.txt", b"fine")),
                ("report.txt/appendix.md", staged(upload_root, "appendix.md", b"x")),
            ],
        )
    with pytest.raises(ValidationError, match="sent as a file"):
        uploads_place(
            folder,
            [
                ("notes.md", staged(upload_root, "notes.md", b"x")),
                ("notes.md/more.md", staged(upload_root, "more.md", b"y")),
            ],
        )
    (folder / "folder.txt").mkdir()
    with pytest.raises(ValidationError, match="would replace the folder"):
        uploads_place(folder, [("folder.txt", staged(upload_root, "folder.txt", b"x"))])
    assert stored_files(folder) == ["report.txt"]


def test_removing_the_upload_source_deletes_its_files_documents_and_vectors(
    api, collection, upload_root, triton
):  # type: ignore[no-untyped-def]
    upload(api, collection, ("files", "a.txt", b"Some words."), ("paths", None, b"deep/a.txt"))
    run_pending(collection)
    source = Source.objects.get(collection=collection)
    removed = api.delete(f"/api/v2/collections/{collection.pk}/sources/{source.pk}")
    assert removed.status_code == 202
    assert run_pending(collection).status == "completed"
    assert not (upload_root / str(collection.pk)).exists()
    assert not Document.objects.exists() and not Source.objects.exists()
    assert get_vector_store().count(collection.vector_collection) == 0


def test_deleting_the_collection_deletes_its_uploaded_files(api, collection, upload_root):  # type: ignore[no-untyped-def]
    operation_id = upload(api, collection, ("files", "a.txt", b"Some words.")).json()["operation_id"]
    api.post(f"/api/v2/operations/{operation_id}/cancel")
    assert (upload_root / str(collection.pk) / "a.txt").exists()
    assert api.delete(f"/api/v2/collections/{collection.pk}").status_code == 204
    assert not (upload_root / str(collection.pk)).exists()


def test_uploads_to_another_users_collection_are_404(collection, upload_root, make_user, client_for):  # type: ignore[no-untyped-def]
    mallory = client_for(make_user("mallory"))
    response = upload(mallory, collection, ("files", "a.txt", b"mine now"))
    assert response.status_code == 404
    assert upload(mallory, uuid.uuid4(), ("files", "a.txt", b"x")).status_code == 404
    assert stored_files(upload_root) == []


def test_staged_uploads_a_crash_left_behind_are_swept_and_fresh_ones_kept(upload_root, settings):  # type: ignore[no-untyped-def]
    from semantik.documents.tasks import sweep_staged_uploads
    from semantik.documents.uploads import STAGED_UPLOAD_EXPIRY_S, uploads_sweep_staging

    staging = upload_root / STAGING_FOLDER
    staging.mkdir(parents=True, exist_ok=True)
    old, fresh, other = staging / ".upload-old", staging / ".upload-fresh", staging / "not-ours.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"partial upload")
    long_ago = time.time() - STAGED_UPLOAD_EXPIRY_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))

    assert uploads_sweep_staging() == 1
    assert sorted(p.name for p in staging.iterdir()) == [".upload-fresh", "not-ours.txt"]
    # Celery beat runs it in a distributed deployment (the maintenance thread under `semantik run`).
    assert sweep_staged_uploads.name in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
