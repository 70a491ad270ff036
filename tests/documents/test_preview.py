"""POST /api/v2/chunking/preview."""

from __future__ import annotations

import uuid

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document, Source

pytestmark = pytest.mark.django_db

TEXT = " ".join(f"Sentence number {i} says something." for i in range(40))


def test_a_text_is_chunked_with_the_given_settings_and_exact_offsets(api, models):  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v2/chunking/preview", {"text": TEXT, "chunk_size": 32, "chunk_overlap": 8}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["embedding_model"], body["chunk_size"], body["chunk_overlap"]) == ("all-minilm-l6-v2", 32, 8)
    assert body["chunking_strategy"] == "recursive"
    chunks = body["chunks"]
    assert len(chunks) > 3
    assert all(TEXT[c["start"] : c["end"]] == c["text"] and c["tokens"] <= 32 for c in chunks)
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == len(TEXT)
    # Recursive: whole sentences, the next chunk repeating the end of the one before.
    assert all(c["text"].startswith("Sentence") and c["text"].endswith(".") for c in chunks)
    assert all(b["start"] < a["end"] for a, b in zip(chunks, chunks[1:], strict=False))
    assert all(c["heading_path"] == [] for c in chunks)


def test_the_fixed_strategy_previews_windows_of_exactly_chunk_size_tokens(api, models):  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/chunking/preview",
        {"text": TEXT, "chunking_strategy": "fixed", "chunk_size": 32, "chunk_overlap": 8},
        format="json",
    ).json()
    assert body["chunking_strategy"] == "fixed"
    assert [c["tokens"] for c in body["chunks"][:-1]] == [32] * (len(body["chunks"]) - 1)
    # Windows cut wherever the tokens run out, mid-sentence included.
    assert not body["chunks"][0]["text"].endswith(".")


MARKDOWN = "# Boats\n\n## Sails\n\nA jib and a main.\n\n## Engines\n\nDiesel, mostly.\n"


def test_a_text_named_as_markdown_is_chunked_under_its_headings(api, models):  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/chunking/preview", {"text": MARKDOWN, "file_name": "boats.md"}, format="json"
    ).json()
    assert [(c["text"], c["heading_path"]) for c in body["chunks"]] == [
        ("# Boats\n\n## Sails\n\nA jib and a main.", ["Boats", "Sails"]),
        ("## Engines\n\nDiesel, mostly.", ["Boats", "Engines"]),
    ]
    # Without a name it is plain text: one chunk, no headings.
    plain = api.post("/api/v2/chunking/preview", {"text": MARKDOWN}, format="json").json()
    assert [c["heading_path"] for c in plain["chunks"]] == [[]]


def test_a_document_is_previewed_with_its_headings_and_its_collections_strategy(  # type: ignore[no-untyped-def]
    api, user, models, documents_root
):
    created = api.post(
        "/api/v2/collections", {"name": "Docs", "chunking_strategy": "fixed"}, format="json"
    ).json()
    collection = Collection.objects.get(pk=created["id"])
    (documents_root / "boats.md").write_text(MARKDOWN)
    source = Source.objects.create(collection=collection, path=str(documents_root))
    document = Document.objects.create(
        collection=collection, source=source, relative_path="boats.md", path=str(documents_root / "boats.md")
    )
    body = api.post(
        "/api/v2/chunking/preview", {"collection": created["id"], "document": str(document.pk)}, format="json"
    ).json()
    assert body["chunking_strategy"] == "fixed"
    assert [c["heading_path"] for c in body["chunks"]] == [["Boats", "Sails"]]
    recursive = api.post(
        "/api/v2/chunking/preview",
        {"collection": created["id"], "document": str(document.pk), "chunking_strategy": "recursive"},
        format="json",
    ).json()
    assert [c["heading_path"] for c in recursive["chunks"]] == [["Boats", "Sails"], ["Boats", "Engines"]]


def test_a_document_whose_file_now_leads_outside_the_roots_is_not_read(  # type: ignore[no-untyped-def]
    api, models, documents_root, tmp_path
):
    created = api.post("/api/v2/collections", {"name": "Docs"}, format="json").json()
    collection = Collection.objects.get(pk=created["id"])
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nNot for you.")
    (documents_root / "notes.md").symlink_to(secret)
    source = Source.objects.create(collection=collection, path=str(documents_root))
    document = Document.objects.create(
        collection=collection, source=source, relative_path="notes.md", path=str(documents_root / "notes.md")
    )
    response = api.post(
        "/api/v2/chunking/preview", {"collection": created["id"], "document": str(document.pk)}, format="json"
    )
    assert response.status_code == 404
    assert (
        "Secret" not in response.content.decode()
        and "outside the document roots" in response.json()["error"]["message"]
    )


def test_a_collection_lends_its_settings(api, models):  # type: ignore[no-untyped-def]
    collection = api.post(
        "/api/v2/collections", {"name": "P", "chunk_size": 20, "chunk_overlap": 0}, format="json"
    ).json()
    body = api.post(
        "/api/v2/chunking/preview", {"text": TEXT, "collection": collection["id"]}, format="json"
    ).json()
    assert (body["chunk_size"], body["chunk_overlap"]) == (20, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": TEXT, "chunk_size": 1000}, "chunk_size"),
        ({"text": TEXT, "chunk_size": 32, "chunk_overlap": 32}, "chunk_overlap"),
        ({"text": TEXT, "embedding_model": "nope"}, "embedding_model"),
        ({"text": TEXT, "chunking_strategy": "semantic"}, "chunking_strategy"),
        ({"text": TEXT, "file_name": "photo.jpg"}, "file_name"),
        ({"text": TEXT, "file_name": "scan.pdf"}, "file_name"),
        ({"file_name": "a.md", "collection": str(uuid.uuid4()), "document": str(uuid.uuid4())}, "file_name"),
        ({}, "text"),
    ],
)
def test_impossible_settings_are_400(api, models, body, field):  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/chunking/preview", body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_someone_elses_collection_is_404(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    theirs = client_for(make_user("bob")).post("/api/v2/collections", {"name": "B"}, format="json").json()
    response = api.post("/api/v2/chunking/preview", {"text": "x", "collection": theirs["id"]}, format="json")
    assert response.status_code == 404
