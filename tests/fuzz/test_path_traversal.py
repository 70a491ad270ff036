"""Path traversal through every field that takes a path: a folder source's path and globs, uploaded
file names and their `paths`, a document's file and text, the chunking preview, search filters and
evaluation labels, and the URL itself. Each attempt ('..', absolute paths outside the roots, symlinks
leading out, NUL bytes, URL-encoded forms) is refused with a 4xx in the one error shape, reads nothing
outside the roots and stores nothing, and is never a 500."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from semantik.documents.models import Document, Source
from semantik.operations.models import Operation
from tests.fuzz.conftest import run_pending

# Indexing (to have documents whose files can be swapped) writes from threads of its own.
pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "the launch codes are 0000"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every root, holding a secret no response may ever contain."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


@pytest.fixture
def collection(api, models, documents_root, upload_root, settings) -> str:  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "onnx"
    from semantik.inference.runtime import reset_embedders

    reset_embedders()
    return str(api.post("/api/v2/collections", {"name": "Docs"}, format="json").json()["id"])


def assert_refused(response, *codes: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (codes or (400,)), (response.status_code, response.content[:400])
    assert SECRET not in response.content.decode(errors="replace")
    assert response.json()["error"]["message"]


def _hostile_folder_paths(root: Path, outside: Path, upload_root: Path) -> dict[str, str]:
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "notes").mkdir()
    return {
        "dot-dot-relative": "../outside",
        "dot-dot-inside-absolute": str(root / "notes" / ".." / ".." / "outside"),
        "absolute-outside": str(outside),
        "system-folder": "/etc",
        "root": "/",
        "home": "~",
        "symlink-leading-out": str(root / "escape"),
        "symlink-leading-out-relative": "escape",
        "nul-byte": f"{root / 'notes'}\x00/../../outside",
        "url-encoded-dot-dot": "%2e%2e/outside",
        "url-encoded-slashes": "..%2f..%2foutside",
        "double-encoded": "%252e%252e%252foutside",
        "backslashes": "..\\..\\outside",
        "upload-root": str(upload_root),
        "overlong": "a/" * 3000,
    }


def test_a_folder_source_path_that_leads_out_is_400_and_queues_nothing(  # type: ignore[no-untyped-def]
    api, collection, documents_root, outside, upload_root
):
    upload_root.mkdir(parents=True, exist_ok=True)
    for label, path in _hostile_folder_paths(documents_root, outside, upload_root).items():
        response = api.post(f"/api/v2/collections/{collection}/sources", {"path": path}, format="json")
        assert response.status_code == 400, (label, response.status_code, response.content[:300])
        assert "path" in response.json()["error"]["details"], label
    assert not Source.objects.exists() and not Operation.objects.exists()


@pytest.mark.parametrize(
    "glob",
    ["../*", "../../outside/*", "notes/../../*", "/etc/*", "/", "*\x00.txt", "a\nb"],
    ids=["dot-dot", "dot-dot-twice", "dot-dot-inside", "absolute", "root", "nul", "newline"],
)
@pytest.mark.parametrize("field", ["include", "exclude"])
def test_a_glob_that_is_absolute_or_climbs_out_is_400(api, collection, documents_root, field, glob):  # type: ignore[no-untyped-def]
    (documents_root / "notes").mkdir()
    response = api.post(
        f"/api/v2/collections/{collection}/sources",
        {"path": str(documents_root / "notes"), field: ["*.md", glob]},
        format="json",
    )
    assert_refused(response)
    assert field in response.json()["error"]["details"]
    assert not Source.objects.exists() and not Operation.objects.exists()


def test_a_source_whose_folder_is_swapped_for_a_symlink_leading_out_indexes_nothing_from_outside(  # type: ignore[no-untyped-def]
    api, collection, documents_root, outside
):
    notes = documents_root / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("The lighthouse keeper trimmed the wick.")
    api.post(f"/api/v2/collections/{collection}/sources", {"path": str(notes)}, format="json")
    run_pending(collection)
    source_id = Source.objects.get().pk
    notes.rename(documents_root / "moved")
    notes.symlink_to(outside, target_is_directory=True)
    rescan = api.post(f"/api/v2/collections/{collection}/sources/{source_id}/rescan")
    assert rescan.status_code == 202
    run_pending(collection)
    assert not Document.objects.filter(relative_path="secret.txt").exists()
    for document in Document.objects.all():
        assert not Path(document.path).resolve().is_relative_to(outside.resolve()), document.path
    hits = api.post(
        "/api/v2/search",
        {"query": "launch codes", "collections": [collection], "mode": "keyword"},
        format="json",
    )
    assert hits.status_code == 200 and SECRET not in hits.content.decode()


@pytest.fixture
def indexed(api, collection, documents_root) -> Document:  # type: ignore[no-untyped-def]
    notes = documents_root / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("The lighthouse keeper trimmed the wick.")
    api.post(f"/api/v2/collections/{collection}/sources", {"path": str(notes)}, format="json")
    run_pending(collection)
    return Document.objects.get(relative_path="a.txt", status=Document.Status.INDEXED)


def test_a_documents_file_swapped_for_a_symlink_leading_out_is_never_served(  # type: ignore[no-untyped-def]
    api, collection, indexed, outside
):
    path = Path(indexed.path)
    path.unlink()
    path.symlink_to(outside / "secret.txt")
    assert_refused(api.get(f"/api/v2/documents/{indexed.pk}/content"), 404)
    assert_refused(api.get(f"/api/v2/documents/{indexed.pk}/text"), 404, 409)
    preview = api.post(
        "/api/v2/chunking/preview", {"collection": collection, "document": str(indexed.pk)}, format="json"
    )
    assert_refused(preview, 404, 409)


def test_a_document_whose_folder_on_the_way_is_swapped_for_a_symlink_is_never_served(  # type: ignore[no-untyped-def]
    api, indexed, outside, documents_root
):
    (outside / "a.txt").write_text(SECRET)
    (documents_root / "notes").rename(documents_root / "moved")
    (documents_root / "notes").symlink_to(outside, target_is_directory=True)
    assert_refused(api.get(f"/api/v2/documents/{indexed.pk}/content"), 404)
    assert_refused(api.get(f"/api/v2/documents/{indexed.pk}/text"), 404, 409)


# Uploaded names, as a file part's filename or as its `paths` entry.
HOSTILE_UPLOAD_NAMES = {
    "dot-dot": "../evil.txt",
    "dot-dot-deep": "a/../../evil.txt",
    "dot-dot-only": "..",
    "absolute": "/tmp/evil.txt",
    "absolute-into-roots": "/etc/cron.d/evil.txt",
    "nul": "evil\x00.txt",
    "newline": "evil\n.txt",
    "hidden": ".evil.txt",
    "empty-segment": "a//evil.txt",
    "backslash-dot-dot": "..\\..\\evil.txt",
    "url-encoded-dot-dot-as-folders": "%2e%2e/%2e%2e/evil.txt",
}


def _multipart(filename: str, content: bytes, paths: list[str] | None = None) -> tuple[bytes, str]:
    """A multipart body written by hand: Django's test client would keep only the name's last part."""
    boundary = "----semantik-fuzz-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode("utf-8", "surrogateescape")
        + content
        + b"\r\n"
    ]
    for path in paths or []:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="paths"\r\n\r\n{path}\r\n'.encode()
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("field", ["paths", "filename"])
def test_an_uploaded_name_that_leads_out_is_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    api, collection, upload_root, tmp_path, field
):
    for label, name in HOSTILE_UPLOAD_NAMES.items():
        if field == "filename":
            body, content_type = _multipart(name, b"payload of " + label.encode())
        else:
            body, content_type = _multipart("fine.txt", b"payload of " + label.encode(), paths=[name])
        response = api.post(f"/api/v2/collections/{collection}/uploads", body, content_type=content_type)
        if label == "url-encoded-dot-dot-as-folders":
            # "%2e%2e" is a folder name like any other here: stored inside the collection's folder.
            assert response.status_code == 202, (label, response.content[:300])
            stored = upload_root / collection / "%2e%2e" / "%2e%2e" / "evil.txt"
            assert stored.is_file()
            Operation.objects.update(status=Operation.Status.CANCELLED)
            continue
        assert response.status_code == 400, (label, field, response.status_code, response.content[:300])
        assert response.json()["error"]["details"], label
    # Nothing landed anywhere outside the collection's folder, nor inside it but for the one above.
    evil = [p for p in tmp_path.rglob("*evil*") if "%2e%2e" not in p.parts]
    assert evil == []
    assert not Path("/tmp/evil.txt").exists()
    assert Operation.objects.filter(status=Operation.Status.PENDING).count() == 0


def test_a_preview_file_name_is_a_name_only_and_reads_no_file(api, outside):  # type: ignore[no-untyped-def]
    for name in [str(outside / "secret.txt"), "../../../../" + str(outside / "secret.txt"), "/etc/passwd"]:
        response = api.post(
            "/api/v2/chunking/preview", {"text": "Just this.", "file_name": name}, format="json"
        )
        assert response.status_code in {200, 400}, (name, response.content[:300])
        assert SECRET not in response.content.decode() and "root:" not in response.content.decode()
    nul = api.post("/api/v2/chunking/preview", {"text": "x", "file_name": "a\x00.md"}, format="json")
    assert nul.status_code in {200, 400}


def test_search_filters_and_evaluation_labels_are_never_read_as_files(api, collection, outside):  # type: ignore[no-untyped-def]
    for filters in [
        {"path_prefix": "../"},
        {"path_prefix": str(outside)},
        {"path_glob": "../../**"},
        {"path_glob": "/etc/*"},
        {"path_prefix": "a\x00b"},
    ]:
        response = api.post(
            "/api/v2/search",
            {"query": "launch codes", "collections": [collection], "mode": "keyword", "filters": filters},
            format="json",
        )
        assert response.status_code in {200, 400}, (filters, response.content[:300])
        assert SECRET not in response.content.decode()
    evaluated = api.post(
        "/api/v2/search/evaluate",
        {
            "collections": [collection],
            "queries": [
                {"query": "launch codes", "relevant": [str(outside / "secret.txt"), "../outside/secret.txt"]}
            ],
            "modes": ["keyword"],
        },
        format="json",
    )
    assert evaluated.status_code in {200, 400}, evaluated.content[:300]
    assert SECRET not in evaluated.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/documents/..%2f..%2f..%2fetc%2fpasswd/content",
        "/api/v2/documents/%2e%2e/%2e%2e/etc/passwd",
        "/api/v2/collections/..%2F..%2F/sources",
        "/api/v2/documents/%00/content",
        "/api/v2/../../etc/passwd",
        "/static/..%2f..%2fsettings.py",
        "/static/%2e%2e/%2e%2e/settings.py",
        "/..%2f..%2f..%2fetc%2fpasswd",
    ],
)
def test_a_url_that_climbs_out_reads_no_file(api, path: str) -> None:  # type: ignore[no-untyped-def]
    response = api.get(path)
    assert response.status_code in {200, 400, 404}, (path, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"root:x:0:0" not in body and b"SECRET_KEY" not in body
    if path.startswith("/api/"):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    elif response.status_code == 200:
        # The UI's catch-all answers with its page, never with a file from the path.
        assert response["Content-Type"].startswith("text/html")


def test_a_symlinked_document_root_still_confines(api, collection, tmp_path, settings, outside):  # type: ignore[no-untyped-def]
    """DOCUMENT_PATH given through a symlink: the check uses where it really leads."""
    real = tmp_path / "real-root"
    (real / "notes").mkdir(parents=True)
    link = tmp_path / "root-link"
    link.symlink_to(real, target_is_directory=True)
    settings.DOCUMENT_PATH = [link]
    ok = api.post(f"/api/v2/collections/{collection}/sources", {"path": str(link / "notes")}, format="json")
    assert ok.status_code == 202, ok.content
    Operation.objects.update(status=Operation.Status.CANCELLED)
    for path in [str(link / ".." / "outside"), os.path.join(str(link), "..", "outside")]:
        assert_refused(api.post(f"/api/v2/collections/{collection}/sources", {"path": path}, format="json"))


@pytest.mark.parametrize("path", ["/api/v2/collections/a%0Ab/sources", "/api/%0A", "/api/v2/x%0D%0Ay"])
def test_an_api_url_with_a_newline_is_the_json_404(api, path: str) -> None:  # type: ignore[no-untyped-def]
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
