"""Operation reads. Whoever may read an operation's collection may see the operation."""

from __future__ import annotations

from collections.abc import Collection as Many
from uuid import UUID

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from semantik.collections.selectors import AnyUser, Need, collection_check, readable_filter
from semantik.operations.models import Operation


def operations_readable_by(user: AnyUser | int) -> QuerySet[Operation]:
    return Operation.objects.filter(readable_filter(user, prefix="collection__")).select_related("collection")


def operation_for(user: AnyUser, operation_id: UUID | str, need: Need) -> Operation:
    """The operation if the user's role on its collection allows `need`; else 404, or 403 when
    they may read it."""
    operation = Operation.objects.select_related("collection").filter(pk=operation_id).first()
    missing = f"Operation {operation_id} not found."
    if operation is None:
        raise NotFound(missing)
    collection_check(user, operation.collection, need, missing=missing)
    return operation


def operations_active_in(collection_ids: Many[str]) -> list[Operation]:
    """Operations not yet ended in these collections, oldest first (no access check)."""
    return list(
        Operation.objects.filter(collection_id__in=list(collection_ids))
        .exclude(status__in=Operation.FINAL_STATUSES)
        .order_by("created_at")
    )


def operations_readable_among(user_id: int, operation_ids: Many[str]) -> dict[str, str]:
    """Of these operation ids, those the user may see, each with its collection's id."""
    found = (
        operations_readable_by(user_id).filter(pk__in=list(operation_ids)).values_list("pk", "collection_id")
    )
    return {str(pk): str(collection_id) for pk, collection_id in found}


def operations_get_many(operation_ids: Many[str]) -> list[Operation]:
    """These operations, oldest first (no access check)."""
    return list(Operation.objects.filter(pk__in=list(operation_ids)).order_by("created_at"))
