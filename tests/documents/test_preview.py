"""POST /api/v2/chunking/preview."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

TEXT = " ".join(f"Sentence number {i} says something." for i in range(40))


def test_a_text_is_chunked_with_the_given_settings_and_exact_offsets(api, models):  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v2/chunking/preview", {"text": TEXT, "chunk_size": 32, "chunk_overlap": 8}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["embedding_model"], body["chunk_size"], body["chunk_overlap"]) == ("all-minilm-l6-v2", 32, 8)
    chunks = body["chunks"]
    assert len(chunks) > 3
    assert all(TEXT[c["start"] : c["end"]] == c["text"] and c["tokens"] <= 32 for c in chunks)
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == len(TEXT)


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
