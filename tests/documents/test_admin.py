"""Sources and documents in the admin: read-only, filtered by status and collection, searched by path,
listed without a query per row."""

from __future__ import annotations

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document, Source
from tests.admin_pages import add_documents, editable_fields, make_collection, query_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection(user, models) -> Collection:  # type: ignore[no-untyped-def]
    return make_collection(user)


def test_source_and_document_pages_show_everything_and_offer_nothing_to_edit(  # type: ignore[no-untyped-def]
    admin_client, collection, tmp_path
):
    failed = add_documents(collection, tmp_path, "failed")[0]
    source = failed.source
    for url, shown in [
        ("/admin/documents/source/", source.path),
        (f"/admin/documents/source/{source.pk}/change/", source.path),
        ("/admin/documents/document/", failed.relative_path),
        (f"/admin/documents/document/{failed.pk}/change/", "Cannot read it."),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert shown in page, url
        if "/change/" in url:
            assert not editable_fields(page), url
            assert "/delete/" not in page, url
    assert (
        admin_client.post(f"/admin/documents/document/{failed.pk}/change/", {"status": "indexed"}).status_code
        == 403
    )
    assert admin_client.get(f"/admin/documents/document/{failed.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/documents/source/add/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == Document.Status.FAILED
    assert Source.objects.filter(pk=source.pk).exists()


def test_documents_filter_by_status_and_collection_and_search_by_path(  # type: ignore[no-untyped-def]
    admin_client, collection, user, tmp_path
):
    add_documents(collection, tmp_path / "notes", "indexed", "failed")
    other = make_collection(user, "Other")
    add_documents(other, tmp_path / "other", "indexed")

    def listed(query: str) -> set[tuple[str, str]]:
        page = admin_client.get(f"/admin/documents/document/?{query}").content.decode()
        return {
            (d.collection.name, d.relative_path)
            for d in Document.objects.select_related("collection")
            if f"/admin/documents/document/{d.pk}/change/" in page
        }

    assert listed("status__exact=failed") == {("Notes", "failed-1.txt")}
    assert listed(f"collection__id__exact={other.pk}") == {("Other", "indexed-0.txt")}
    assert listed("q=failed-1") == {("Notes", "failed-1.txt")}
    assert listed(f"q={tmp_path / 'other'}") == {("Other", "indexed-0.txt")}


def test_the_lists_cost_the_same_queries_for_one_row_or_many(  # type: ignore[no-untyped-def]
    admin_client, collection, make_user, tmp_path
):
    add_documents(collection, tmp_path, "indexed")
    documents = query_count(admin_client, "/admin/documents/document/")
    sources = query_count(admin_client, "/admin/documents/source/")
    for name in ("bob", "carol", "dave"):
        add_documents(make_collection(make_user(name), name), tmp_path / name, "indexed", "failed")
    # The collection filter lists every collection in one query either way.
    assert query_count(admin_client, "/admin/documents/document/") == documents
    assert query_count(admin_client, "/admin/documents/source/") == sources
