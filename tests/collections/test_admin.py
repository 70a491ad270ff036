"""Collections in the admin: counts without a query per row, what shapes the vectors read-only, and a
delete that takes the Qdrant collection along, or is refused while an operation runs."""

from __future__ import annotations

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.documents.services import source_add
from semantik.vectors import get_vector_store
from tests.admin_pages import add_documents, editable_fields, make_collection, query_count

pytestmark = pytest.mark.django_db

VECTOR_SHAPING = {
    "embedding_model",
    "precision",
    "vector_dimension",
    "chunking_strategy",
    "chunk_size",
    "chunk_overlap",
    "vector_collection",
    "status",
}


@pytest.fixture
def collection(user, models) -> Collection:  # type: ignore[no-untyped-def]
    return make_collection(user)


def test_the_list_shows_owner_model_and_counts_at_a_fixed_cost(  # type: ignore[no-untyped-def]
    admin_client, collection, make_user, tmp_path
):
    add_documents(collection, tmp_path, "indexed", "indexed", "failed", "pending")
    cost = query_count(admin_client, "/admin/collections/collection/")
    for name in ("bob", "carol", "dave"):
        other = make_collection(make_user(name), f"{name}'s")
        add_documents(other, tmp_path / name, "indexed", "failed")
    assert query_count(admin_client, "/admin/collections/collection/") == cost
    page = admin_client.get("/admin/collections/collection/?q=alice").content.decode()
    row = page[page.index("field-owner") :]
    assert "alice" in row and "all-minilm-l6-v2" in row and "float32" in row
    # 2 indexed and 1 failed of 4 documents; 3 chunks per indexed one; one source.
    assert '<td class="field-source_count">1</td>' in page
    assert '<td class="field-document_count">4</td>' in page
    assert '<td class="field-failed_document_count">1</td>' in page
    assert '<td class="field-chunk_count">6</td>' in page


def test_what_shapes_the_vectors_is_read_only_and_the_name_is_not(admin_client, collection):  # type: ignore[no-untyped-def]
    url = f"/admin/collections/collection/{collection.pk}/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    fields = editable_fields(page)
    assert {"name", "description", "owner", "sync_interval_minutes"} <= fields
    assert not fields & VECTOR_SHAPING
    assert collection.vector_collection in page  # shown all the same
    form = {
        "name": "Renamed",
        "description": "",
        "owner": collection.owner_id,
        "sync_interval_minutes": "",
        "default_reranker": "",
        # A crafted post cannot change what the form does not offer.
        "embedding_model": "another-model",
        "chunk_size": "17",
        "vector_collection": "elsewhere",
        **no_shares(),
    }
    assert admin_client.post(url, form).status_code == 302
    collection.refresh_from_db()
    assert collection.name == "Renamed"
    assert (collection.embedding_model, collection.chunk_size) == ("all-minilm-l6-v2", 128)
    assert collection.vector_collection != "elsewhere"


def no_shares(total: int = 0, initial: int = 0) -> dict[str, object]:
    """The management form of the shares inline."""
    return {
        "shares-TOTAL_FORMS": str(total),
        "shares-INITIAL_FORMS": str(initial),
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
    }


def test_staff_share_and_unshare_a_collection_through_the_sharing_services(  # type: ignore[no-untyped-def]
    admin_client, collection, make_user, monkeypatch
):
    from semantik.collections import services
    from semantik.collections.models import CollectionShare

    ended: list[int] = []
    real = services.collection_unshare
    monkeypatch.setattr(
        "semantik.collections.admin.collection_unshare",
        lambda share: (ended.append(share.user_id), real(share)),
    )
    bob = make_user("bob")
    url = f"/admin/collections/collection/{collection.pk}/change/"
    form = {
        "name": collection.name,
        "description": "",
        "owner": collection.owner_id,
        "sync_interval_minutes": "",
        "default_reranker": "",
        **no_shares(total=1),
        "shares-0-user": bob.pk,
        "shares-0-role": "viewer",
    }
    assert admin_client.post(url, form).status_code == 302
    share = CollectionShare.objects.get(collection=collection)
    assert (share.user, share.role) == (bob, "viewer")

    form = {
        **form,
        **no_shares(total=1, initial=1),
        "shares-0-id": share.pk,
        "shares-0-collection": collection.pk,
        "shares-0-DELETE": "on",
    }
    assert admin_client.post(url, form).status_code == 302
    assert not CollectionShare.objects.filter(collection=collection).exists()
    assert ended == [bob.pk]


def test_collections_are_made_through_the_api_not_the_admin(admin_client) -> None:  # type: ignore[no-untyped-def]
    assert admin_client.get("/admin/collections/collection/add/").status_code == 403


def test_deleting_in_the_admin_drops_the_qdrant_collection_too(  # type: ignore[no-untyped-def]
    admin_client, collection, tmp_path, django_capture_on_commit_callbacks
):
    add_documents(collection, tmp_path, "indexed")
    url = f"/admin/collections/collection/{collection.pk}/delete/"
    confirm = admin_client.get(url).content.decode()
    assert "its vectors" in confirm and collection.vector_collection in confirm
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Collection.objects.exists() and not Document.objects.exists()
    assert not get_vector_store().collection_exists(collection.vector_collection)


def test_a_collection_an_operation_works_on_cannot_be_deleted(  # type: ignore[no-untyped-def]
    admin_client, collection, user, documents_root
):
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    url = f"/admin/collections/collection/{collection.pk}/delete/"
    page = admin_client.get(url).content.decode()
    assert f"busy with index operation {operation.id}" in page
    admin_client.post(url, {"post": "yes"})
    bulk = {"action": "delete_selected", "_selected_action": [str(collection.pk)], "post": "yes"}
    admin_client.post("/admin/collections/collection/", bulk)
    assert Collection.objects.filter(pk=collection.pk).exists()
    assert get_vector_store().collection_exists(collection.vector_collection)
