"""Operations in the admin: read-only, with cancel and retry actions that go through the services and
refuse what the API would refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from semantik.collections.models import Collection
from semantik.documents.models import Source
from semantik.documents.services import source_add
from semantik.operations.models import Operation
from tests.admin_pages import add_documents, editable_fields, make_collection, query_count

pytestmark = pytest.mark.django_db

LIST = "/admin/operations/operation/"


@pytest.fixture
def collection(user, models) -> Collection:  # type: ignore[no-untyped-def]
    return make_collection(user)


@pytest.fixture
def source(collection: Collection, documents_root) -> Source:  # type: ignore[no-untyped-def]
    return Source.objects.create(collection=collection, path=str(documents_root))


def ended(source: Source, status: str, type: str = Operation.Type.INDEX, **params: Any) -> Operation:
    """An operation that ran on `source` and ended as `status`."""
    return Operation.objects.create(
        collection=source.collection,
        user=source.collection.owner,
        type=type,
        status=status,
        params={"source_id": str(source.pk), **params},
        error="Triton is unavailable." if status == Operation.Status.FAILED else "",
    )


def act(client, action: str, *operations: Operation) -> list[str]:  # type: ignore[no-untyped-def]
    """Run an admin action on `operations`; the messages it leaves."""
    selected = [str(o.pk) for o in operations]
    response = client.post(LIST, {"action": action, "_selected_action": selected}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_the_list_and_an_operations_page_render_read_only(admin_client, source) -> None:  # type: ignore[no-untyped-def]
    operation = ended(source, Operation.Status.FAILED)
    page = admin_client.get(LIST).content.decode()
    assert f"{LIST}{operation.pk}/change/" in page
    assert '<option value="cancel">' in page and '<option value="retry">' in page
    response = admin_client.get(f"{LIST}{operation.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Triton is unavailable." in page
    assert not editable_fields(page)
    assert admin_client.post(f"{LIST}{operation.pk}/change/", {"status": "completed"}).status_code == 403
    assert admin_client.get(f"{LIST}{operation.pk}/delete/").status_code == 403
    assert admin_client.get(f"{LIST}add/").status_code == 403


def test_cancel_ends_a_pending_operation_stops_a_running_one_and_refuses_an_ended_one(  # type: ignore[no-untyped-def]
    admin_client, user, models, documents_root
):
    pending = source_add(collection=make_collection(user, "A"), path=str(documents_root), user=user)
    running = source_add(collection=make_collection(user, "B"), path=str(documents_root), user=user)
    Operation.objects.filter(pk=running.pk).update(status=Operation.Status.PROCESSING)
    done = ended(Source.objects.get(collection__name="A"), Operation.Status.COMPLETED)

    messages = act(admin_client, "cancel", pending, running, done)

    pending.refresh_from_db(), running.refresh_from_db(), done.refresh_from_db()
    assert pending.status == Operation.Status.CANCELLED
    assert running.status == Operation.Status.PROCESSING and running.cancel_requested
    assert done.status == Operation.Status.COMPLETED and not done.cancel_requested
    assert "Cancelled 1 pending operation(s)." in messages
    assert "Asked 1 running operation(s) to stop at their next file." in messages
    assert f"Operation {done.pk} has already ended (completed)." in messages


def test_retry_queues_the_same_kind_of_operation_on_the_same_source(admin_client, source) -> None:  # type: ignore[no-untyped-def]
    document = add_documents(source.collection, Path(source.path), "failed")[0]
    failed = ended(
        source,
        Operation.Status.FAILED,
        Operation.Type.RETRY,
        relative_path=document.relative_path,
        document_id=str(document.pk),
    )

    messages = act(admin_client, "retry", failed)

    queued = Operation.objects.exclude(pk=failed.pk).get()
    assert messages == [f"retry {failed.pk}: queued again as operation {queued.pk}."]
    assert (queued.type, queued.status, queued.user) == ("retry", "pending", source.collection.owner)
    assert queued.params == failed.params


def test_retry_is_refused_while_the_collection_is_busy_and_for_what_did_not_fail(  # type: ignore[no-untyped-def]
    admin_client, source, user, documents_root
):
    failed = ended(source, Operation.Status.FAILED)
    completed = ended(source, Operation.Status.COMPLETED)
    running = source_add(collection=source.collection, path=str(documents_root), user=user)

    messages = act(admin_client, "retry", failed, completed)

    assert Operation.objects.count() == 3
    assert any(
        m.startswith(f"index {failed.pk}: Collection 'Notes' is busy with rescan operation {running.pk}")
        for m in messages
    ), messages
    refusal = f"Operation {completed.pk} is completed; only a failed or cancelled one is retried."
    assert f"index {completed.pk}: {refusal}" in messages
    Operation.objects.filter(pk=running.pk).update(status=Operation.Status.CANCELLED)
    source.delete()
    gone = act(admin_client, "retry", failed)
    assert gone == [
        f"index {failed.pk}: The source of operation {failed.pk} no longer exists: nothing to retry."
    ]


def test_a_failed_reindex_is_retried_with_the_same_target(admin_client, collection) -> None:  # type: ignore[no-untyped-def]
    target = {
        "embedding_model": "all-minilm-l6-v2",
        "precision": "int8",
        "vector_dimension": 384,
        "chunking_strategy": "fixed",
        "chunk_size": 64,
        "chunk_overlap": 8,
    }
    failed = Operation.objects.create(
        collection=collection,
        user=collection.owner,
        type=Operation.Type.REINDEX,
        status=Operation.Status.FAILED,
        params={"target": target, "vector_collection": f"{collection.vector_collection}_g2"},
    )
    act(admin_client, "retry", failed)
    queued = Operation.objects.exclude(pk=failed.pk).get()
    assert queued.type == "reindex" and queued.params["target"] == target


def test_staff_who_may_only_view_operations_get_no_actions(client, django_user_model, source) -> None:  # type: ignore[no-untyped-def]
    operation = ended(source, Operation.Status.FAILED)
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_operation"))
    client.force_login(viewer)
    page = client.get(LIST).content.decode()
    assert f"{LIST}{operation.pk}/change/" in page
    assert '<option value="retry">' not in page and '<option value="cancel">' not in page
    client.post(LIST, {"action": "retry", "_selected_action": [str(operation.pk)]})
    assert Operation.objects.count() == 1


def test_the_list_costs_the_same_queries_for_one_row_or_many(  # type: ignore[no-untyped-def]
    admin_client, source, make_user, tmp_path
):
    ended(source, Operation.Status.FAILED)
    cost = query_count(admin_client, LIST)
    for name in ("bob", "carol", "dave"):
        other = make_collection(make_user(name), name)
        folder = tmp_path / name
        folder.mkdir()
        ended(Source.objects.create(collection=other, path=str(folder)), Operation.Status.COMPLETED)
    assert query_count(admin_client, LIST) == cost
