"""A document's original file and extracted text, read again from disk within its source's roots."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.documents.services import source_index
from semantik.operations.models import Operation
from tests.documents.test_extraction import make_pdf

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["The first page tells of harbours.", "The second page tells of ships.", "The third of storms."]


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Shelf"}, format="json").json()
    return Collection.objects.get(pk=body["id"])


def index(api, collection: Collection, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Add the folder and run its operation as the worker would."""
    response = api.post(f"/api/v2/collections/{collection.pk}/sources", {"path": str(folder)}, format="json")
    assert response.status_code == 202, response.content
    source_index(response.json()["operation_id"])
    assert Operation.objects.get(pk=response.json()["operation_id"]).status == "completed"


def document(relative_path: str) -> Document:
    return Document.objects.get(relative_path=relative_path)


def content(api, document: Document):  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v2/documents/{document.pk}/content")
    body = b"".join(response.streaming_content) if response.status_code == 200 else response.content
    response.close()
    return response, body


def test_the_content_is_the_original_file_a_pdf_inline_anything_else_an_attachment(
    api, collection, documents_root, triton
):  # type: ignore[no-untyped-def]
    (documents_root / "notes.md").write_text("# Notes\n\nPlain words.")
    page = b"<!doctype html><html><body><p>Hello.</p><script>steal()</script></body></html>"
    (documents_root / "page.txt").write_bytes(page)  # named like text, sniffed as HTML
    (documents_root / "book.pdf").write_bytes(make_pdf(PAGES))
    index(api, collection, documents_root)

    response, body = content(api, document("notes.md"))
    assert response.status_code == 200
    assert body == (documents_root / "notes.md").read_bytes()
    assert response["Content-Type"] == "text/markdown"
    assert response["Content-Disposition"] == 'attachment; filename="notes.md"'
    assert response["X-Content-Type-Options"] == "nosniff"

    response, body = content(api, document("page.txt"))
    assert (response.status_code, body) == (200, page)
    # A page's scripts must never run with the API's origin: plain text, an attachment, sandboxed.
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="page.txt"'
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"

    response, body = content(api, document("book.pdf"))
    assert response["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    assert response["Content-Disposition"] == 'inline; filename="book.pdf"'
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("mime_type", "served_as"),
    [
        ("text/html", "text/plain; charset=utf-8"),
        ("application/xhtml+xml", "text/plain; charset=utf-8"),
        ("image/svg+xml", "text/plain; charset=utf-8"),
        ("application/xml", "text/plain; charset=utf-8"),
        ("text/javascript", "text/plain; charset=utf-8"),
        ("message/rfc822", "text/plain; charset=utf-8"),
        ("text/markdown", "text/markdown"),
        ("application/pdf", "application/pdf"),
    ],
)
def test_types_a_browser_could_run_are_served_as_plain_text(mime_type: str, served_as: str) -> None:
    from semantik.documents.views import safe_content_type

    assert safe_content_type(mime_type) == served_as


def test_the_text_comes_in_a_character_range_with_the_page_starts(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "book.pdf").write_bytes(make_pdf(PAGES))
    index(api, collection, documents_root)
    url = f"/api/v2/documents/{document('book.pdf').pk}/text"

    whole = api.get(url).json()
    text = whole["text"]
    assert whole["characters"] == len(text) and (whole["start"], whole["end"]) == (0, len(text))
    assert whole["mime_type"] == "application/pdf"
    starts = whole["page_starts"]
    assert len(starts) == 3 and starts[0] == 0
    for number, page in enumerate(PAGES):
        assert text.index(page) >= starts[number]
        assert number == 2 or text.index(page) < starts[number + 1]

    window = api.get(f"{url}?start={starts[1]}&end={starts[2]}").json()
    assert window["text"] == text[starts[1] : starts[2]] and PAGES[1] in window["text"]
    assert (window["characters"], window["page_starts"]) == (len(text), starts)
    clamped = api.get(f"{url}?start=5&end=10000000").json()
    assert (clamped["start"], clamped["end"], clamped["text"]) == (5, len(text), text[5:])
    assert api.get(f"{url}?start=9&end=3").status_code == 400
    assert api.get(f"{url}?start=-1").status_code == 400


def test_the_text_is_cached_by_content_hash_and_a_vanished_file_is_404(
    api, collection, documents_root, triton
):  # type: ignore[no-untyped-def]
    (documents_root / "kept.txt").write_text("Words that were indexed.")
    (documents_root / "gone.txt").write_text("Words about to vanish.")
    index(api, collection, documents_root)
    kept, gone = document("kept.txt"), document("gone.txt")
    assert api.get(f"/api/v2/documents/{kept.pk}/text").json()["text"] == "Words that were indexed."

    (documents_root / "kept.txt").unlink()
    (documents_root / "gone.txt").unlink()

    # The indexed version's text is still known, from the cache; the file itself is not.
    assert api.get(f"/api/v2/documents/{kept.pk}/text").json()["text"] == "Words that were indexed."
    response, _ = content(api, kept)
    assert response.status_code == 404
    assert "no longer exists" in response.json()["error"]["message"]
    never_read = api.get(f"/api/v2/documents/{gone.pk}/text")
    assert (
        never_read.status_code == 404
        and "'gone.txt' no longer exists" in never_read.json()["error"]["message"]
    )


def test_the_text_of_a_file_changed_since_indexing_is_409(api, collection, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "draft.txt").write_text("The first draft.")
    index(api, collection, documents_root)
    (documents_root / "draft.txt").write_text("A second draft, with other offsets.")
    response = api.get(f"/api/v2/documents/{document('draft.txt').pk}/text")
    assert response.status_code == 409
    assert "changed since it was indexed" in response.json()["error"]["message"]


def test_a_file_that_now_leads_outside_the_roots_is_not_served(
    api, collection, documents_root, tmp_path, triton
):  # type: ignore[no-untyped-def]
    (documents_root / "notes.txt").write_text("Harmless notes.")
    index(api, collection, documents_root)
    secret = tmp_path / "secret.txt"
    secret.write_text("The password is swordfish.")
    (documents_root / "notes.txt").unlink()
    (documents_root / "notes.txt").symlink_to(secret)

    response, body = content(api, document("notes.txt"))
    assert response.status_code == 404
    assert b"swordfish" not in body and "outside the document roots" in response.json()["error"]["message"]
    text = api.get(f"/api/v2/documents/{document('notes.txt').pk}/text")
    assert text.status_code == 404 and "swordfish" not in text.content.decode()


def test_a_failed_document_is_served_but_its_text_is_422_with_the_reason(
    api, collection, documents_root, triton
):  # type: ignore[no-untyped-def]
    (documents_root / "blob.txt").write_bytes(b"\x00\x01\x02" * 50)
    index(api, collection, documents_root)
    blob = document("blob.txt")
    assert blob.status == "failed"
    response, body = content(api, blob)
    assert (response.status_code, body) == (200, b"\x00\x01\x02" * 50)
    text = api.get(f"/api/v2/documents/{blob.pk}/text")
    assert text.status_code == 422
    assert text.json()["error"]["code"] == "unreadable" and "binary" in text.json()["error"]["message"]


def test_an_uploaded_document_is_read_from_the_upload_root(api, collection, upload_root, triton):  # type: ignore[no-untyped-def]
    response = api.post(
        f"/api/v2/collections/{collection.pk}/uploads",
        {"files": [SimpleUploadedFile("memo.txt", b"An uploaded memo.")]},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    source_index(response.json()["operation_id"])
    memo = document("memo.txt")
    response, body = content(api, memo)
    assert (response.status_code, body) == (200, b"An uploaded memo.")
    assert api.get(f"/api/v2/documents/{memo.pk}/text").json()["text"] == "An uploaded memo."
