"""Operation reads, always scoped to what the user may see."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from semantik.operations.models import Operation


def operations_for_user(user: User) -> QuerySet[Operation]:
    return Operation.objects.filter(collection__owner=user).select_related("collection")


def operation_get_for_user(user: User, operation_id: UUID | str) -> Operation:
    operation = operations_for_user(user).filter(pk=operation_id).first()
    if operation is None:
        raise NotFound(f"Operation {operation_id} not found.")
    return operation


def operations_active_for_user(user_id: int) -> list[Operation]:
    return list(
        Operation.objects.filter(collection__owner_id=user_id)
        .exclude(status__in=Operation.FINAL_STATUSES)
        .order_by("created_at")
    )
