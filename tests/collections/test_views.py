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
    assert body["chunking_strategy"] == "recursive"
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
        ({"name": "x", "chunking_strategy": "semantic"}, "chunking_strategy"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_invalid_collections_are_400_naming_the_field(api, models, body, field):  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/collections", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_a_collection_keeps_the_chunking_strategy_it_was_created_with(api, models):  # type: ignore[no-untyped-def]
    created = api.post("/api/v2/collections", {"name": "Fixed", "chunking_strategy": "fixed"}, format="json")
    assert created.status_code == 201 and created.json()["chunking_strategy"] == "fixed"
    assert api.get(f"/api/v2/collections/{created.json()['id']}").json()["chunking_strategy"] == "fixed"
    assert [c["chunking_strategy"] for c in api.get("/api/v2/collections").json()["results"]] == ["fixed"]


def test_list_is_paginated(api, models):  # type: ignore[no-untyped-def]
    for i in range(3):
        api.post("/api/v2/collections", {"name": f"C{i}"}, format="json")
    page = api.get("/api/v2/collections?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert len(api.get(page["next"]).json()["results"]) == 1


def test_rename_and_describe(api, models):  # type: ignore[no-untyped-def]
    created = api.post("/api/v2/collections", {"name": "Old"}, format="json").json()
    response = api.patch(
        f"/api/v2/collections/{created['id']}", {"name": "New", "description": "d"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("New", "d")


def test_delete_removes_the_collection_and_its_vectors(api, models, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from semantik.collections.models import Collection

    created = api.post("/api/v2/collections", {"name": "Doomed"}, format="json").json()
    vector_collection = Collection.objects.get(pk=created["id"]).vector_collection
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v2/collections/{created['id']}").status_code == 204
    assert api.get(f"/api/v2/collections/{created['id']}").status_code == 404
    assert not get_vector_store().collection_exists(vector_collection)


def test_someone_elses_collection_cannot_be_deleted_or_renamed(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    theirs = client_for(make_user("bob")).post("/api/v2/collections", {"name": "Bob's"}, format="json").json()
    assert api.delete(f"/api/v2/collections/{theirs['id']}").status_code == 404
    assert (
        api.patch(f"/api/v2/collections/{theirs['id']}", {"name": "Mine"}, format="json").status_code == 404
    )


def test_a_collection_with_an_operation_in_flight_cannot_be_deleted(api, user, models, documents_root):  # type: ignore[no-untyped-def]
    from semantik.collections.models import Collection
    from semantik.documents.services import source_add

    created = api.post("/api/v2/collections", {"name": "Busy"}, format="json").json()
    source_add(collection=Collection.objects.get(pk=created["id"]), path=str(documents_root), user=user)
    response = api.delete(f"/api/v2/collections/{created['id']}")
    assert response.status_code == 409
    assert api.get(f"/api/v2/collections/{created['id']}").status_code == 200


def test_a_collection_gets_the_default_precision_unless_it_asks_for_one(api, models, settings):  # type: ignore[no-untyped-def]
    from semantik.catalog.selectors import collection_model
    from semantik.collections.models import Collection

    default = api.post("/api/v2/collections", {"name": "Default"}, format="json").json()
    assert (default["embedding_model"], default["precision"]) == ("all-minilm-l6-v2", "float32")
    int8 = api.post("/api/v2/collections", {"name": "Small", "precision": "int8"}, format="json").json()
    assert (int8["embedding_model"], int8["precision"], int8["vector_dimension"]) == (
        "all-minilm-l6-v2",
        "int8",
        384,
    )
    assert collection_model(Collection.objects.get(pk=int8["id"])).name == "all-minilm-l6-v2-int8"
    assert api.get(f"/api/v2/collections/{int8['id']}").json()["precision"] == "int8"

    settings.DEFAULT_QUANTIZATION = "int8"
    assert api.post("/api/v2/collections", {"name": "Quantised"}, format="json").json()["precision"] == "int8"


def test_naming_a_variant_stores_its_model_and_precision(api, models):  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/collections", {"name": "V", "embedding_model": "all-minilm-l6-v2-int8"}, format="json"
    ).json()
    assert (body["embedding_model"], body["precision"]) == ("all-minilm-l6-v2", "int8")


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"precision": "float16"}, "precision", "not exported in float16; its precisions: float32, int8"),
        ({"precision": "fp64"}, "precision", "not a valid choice"),
        (
            {"embedding_model": "no-such-model"},
            "embedding_model",
            "available: all-minilm-l6-v2 (float32, int8)",
        ),
        (
            {"embedding_model": "all-minilm-l6-v2-int8", "precision": "float32"},
            "precision",
            "is the int8 variant of 'all-minilm-l6-v2'",
        ),
    ],
)
def test_a_model_or_precision_that_is_not_served_is_400_saying_what_is(api, models, body, field, says):  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/collections", {"name": "x", **body}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["details"]) == [field]
    assert says in error["details"][field][0]


def test_a_collection_is_created_with_a_default_reranker_and_it_can_be_cleared(api, reranker):  # type: ignore[no-untyped-def]
    created = api.post(
        "/api/v2/collections", {"name": "Reranked", "default_reranker": reranker}, format="json"
    )
    assert created.status_code == 201 and created.json()["default_reranker"] == reranker

    from semantik.collections.models import Collection

    cleared = api.patch(
        f"/api/v2/collections/{created.json()['id']}", {"default_reranker": ""}, format="json"
    )
    assert cleared.status_code == 200 and cleared.json()["default_reranker"] == ""
    assert Collection.objects.get(pk=created.json()["id"]).default_reranker == ""


@pytest.mark.parametrize("name", ["no-such-reranker", "all-minilm-l6-v2"])
def test_a_default_reranker_must_be_a_reranker_of_the_repository(api, reranker, name):  # type: ignore[no-untyped-def]
    created = api.post("/api/v2/collections", {"name": "Bad", "default_reranker": name}, format="json")
    assert created.status_code == 400 and "default_reranker" in created.json()["error"]["details"]
    existing = api.post("/api/v2/collections", {"name": "Good"}, format="json").json()
    patched = api.patch(f"/api/v2/collections/{existing['id']}", {"default_reranker": name}, format="json")
    assert patched.status_code == 400 and "default_reranker" in patched.json()["error"]["details"]


@pytest.fixture
def shared(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    """Alice's collection, and clients of bob (whom she shares it with as `role`) and of eve."""

    def share(role: str):  # type: ignore[no-untyped-def]
        collection = api.post("/api/v2/collections", {"name": "Team notes"}, format="json").json()
        bob = make_user("bob")
        response = api.post(
            f"/api/v2/collections/{collection['id']}/shares", {"username": "Bob", "role": role}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["username"] == "bob" and response.json()["user_id"] == bob.pk
        return collection, client_for(bob), client_for(make_user("eve"))

    return share


def test_a_viewer_sees_a_shared_collection_with_its_role_and_cannot_change_it(shared):  # type: ignore[no-untyped-def]
    collection, bob, eve = shared("viewer")
    listed = bob.get("/api/v2/collections").json()["results"]
    assert [(c["name"], c["role"], c["owner"]) for c in listed] == [("Team notes", "viewer", "alice")]
    assert bob.get(f"/api/v2/collections/{collection['id']}").json()["role"] == "viewer"
    refused = bob.patch(f"/api/v2/collections/{collection['id']}", {"name": "Mine now"}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "editor_required"
    # Eve was not invited: to her it does not exist.
    assert eve.get(f"/api/v2/collections/{collection['id']}").status_code == 404
    assert eve.get("/api/v2/collections").json()["count"] == 0


def test_an_editor_may_change_the_collection_but_not_publish_share_or_delete_it(shared):  # type: ignore[no-untyped-def]
    collection, bob, _ = shared("editor")
    url = f"/api/v2/collections/{collection['id']}"
    renamed = bob.patch(url, {"name": "Renamed by Bob", "sync_interval_minutes": 60}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed by Bob"
    for refused in (
        bob.patch(url, {"is_public": True}, format="json"),
        bob.delete(url),
        bob.get(f"{url}/shares"),
        bob.post(f"{url}/shares", {"username": "eve", "role": "viewer"}, format="json"),
    ):
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "owner_required"
    assert bob.get(url).json()["is_public"] is False


def test_shares_are_listed_changed_and_ended_by_the_owner(api, shared):  # type: ignore[no-untyped-def]
    collection, bob, _ = shared("viewer")
    url = f"/api/v2/collections/{collection['id']}/shares"
    bob_id = api.get(url).json()["results"][0]["user_id"]
    # Sharing again changes the role: 200, not a second share.
    again = api.post(url, {"username": "bob", "role": "editor"}, format="json")
    assert again.status_code == 200 and again.json()["role"] == "editor"
    assert [(s["username"], s["role"]) for s in api.get(url).json()["results"]] == [("bob", "editor")]
    assert api.patch(f"{url}/{bob_id}", {"role": "viewer"}, format="json").json()["role"] == "viewer"
    assert api.delete(f"{url}/{bob_id}").status_code == 204
    assert api.get(url).json()["results"] == []
    assert bob.get(f"/api/v2/collections/{collection['id']}").status_code == 404
    assert api.delete(f"{url}/{bob_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "nobody", "role": "viewer"}, "no user named 'nobody'"),
        ({"username": "alice", "role": "viewer"}, "owns this collection"),
        ({"username": "bob", "role": "owner"}, "role"),
    ],
)
def test_a_share_with_an_unknown_user_the_owner_or_an_unknown_role_is_400(
    api, make_user, models, body, message
):  # type: ignore[no-untyped-def]
    make_user("bob")
    collection = api.post("/api/v2/collections", {"name": "Solo"}, format="json").json()
    response = api.post(f"/api/v2/collections/{collection['id']}/shares", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_a_public_collection_is_readable_by_everyone_signed_in_and_writable_by_none(
    api, client_for, make_user, models
):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Handbook"}, format="json").json()
    url = f"/api/v2/collections/{collection['id']}"
    eve = client_for(make_user("eve"))
    assert eve.get(url).status_code == 404
    published = api.patch(url, {"is_public": True}, format="json")
    assert published.status_code == 200 and published.json()["is_public"] is True
    assert [(c["name"], c["role"]) for c in eve.get("/api/v2/collections").json()["results"]] == [
        ("Handbook", "public")
    ]
    assert eve.get(url).json()["role"] == "public"
    assert eve.patch(url, {"description": "defaced"}, format="json").status_code == 403
    assert eve.delete(url).status_code == 403
    assert api.patch(url, {"is_public": False}, format="json").status_code == 200
    assert eve.get(url).status_code == 404


def test_staff_have_no_implicit_access_to_other_users_collections(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Private"}, format="json").json()
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    staff = client_for(admin)
    assert staff.get(f"/api/v2/collections/{collection['id']}").status_code == 404
    assert staff.get("/api/v2/collections").json()["count"] == 0


def test_the_list_filters_by_role(api, client_for, make_user, models):  # type: ignore[no-untyped-def]
    bob = make_user("bob")
    bobs = client_for(bob)
    theirs = bobs.post("/api/v2/collections", {"name": "Bob's"}, format="json").json()
    bobs.post(
        f"/api/v2/collections/{theirs['id']}/shares", {"username": "alice", "role": "editor"}, format="json"
    )
    api.post("/api/v2/collections", {"name": "Alice's"}, format="json")
    assert [c["name"] for c in api.get("/api/v2/collections?role=owner").json()["results"]] == ["Alice's"]
    assert [c["name"] for c in api.get("/api/v2/collections?role=editor").json()["results"]] == ["Bob's"]
    assert api.get("/api/v2/collections?role=viewer").json()["count"] == 0
    assert api.get("/api/v2/collections?role=boss").status_code == 400
