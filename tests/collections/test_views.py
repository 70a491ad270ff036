"""Collection endpoints."""

from __future__ import annotations

import uuid

import pytest

from semantik.vectors import get_vector_store

pytestmark = pytest.mark.django_db


def test_create_collection_with_defaults_creates_its_qdrant_collection(api, models):  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/collections", {"name": "Notes"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Notes"
    assert body["embedding_model"] == "all-minilm-l6-v2"
    assert body["vector_dimension"] == 384
    assert body["chunk_size"] <= 254
    assert body["status"] == "empty"
    assert body["document_count"] == 0
    uuid.UUID(body["id"])
    from semantik.collections.models import Collection

    assert get_vector_store().collection_exists(Collection.objects.get(pk=body["id"]).vector_collection)


def test_list_and_detail_show_only_my_collections(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    mine = api.post("/api/v2/collections", {"name": "Mine"}, format="json").json()
    other = client_for(make_user("bob")).post("/api/v2/collections", {"name": "Bob's"}, format="json").json()
    names = [c["name"] for c in api.get("/api/v2/collections").json()["results"]]
    assert names == ["Mine"]
    assert api.get(f"/api/v2/collections/{mine['id']}").status_code == 200
    # Someone else's collection is indistinguishable from a missing one.
    assert api.get(f"/api/v2/collections/{other['id']}").status_code == 404


def test_a_missing_collection_is_a_clear_404(api):  # type: ignore[no-untyped-def]
    missing = uuid.uuid4()
    response = api.get(f"/api/v2/collections/{missing}")
    assert response.status_code == 404
    assert str(missing) in response.json()["error"]["message"]


def test_duplicate_name_is_400(api, models):  # type: ignore[no-untyped-def]
    assert api.post("/api/v2/collections", {"name": "Twice"}, format="json").status_code == 201
    response = api.post("/api/v2/collections", {"name": "Twice"}, format="json")
    assert response.status_code == 400
    assert "Twice" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "embedding_model": "no-such-model"}, "embedding_model"),
        ({"name": "x", "chunk_size": 100000}, "chunk_size"),
        ({"name": "x", "chunk_size": 64, "chunk_overlap": 64}, "chunk_overlap"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_invalid_collections_are_400_naming_the_field(api, models, body, field):  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/collections", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
