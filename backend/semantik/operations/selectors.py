"""Operation reads, always scoped to what the user may see."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from semantik.operations.models import Operation


def operations_for_user(user: User) -> QuerySet[Operation]:
    return Operation.objects.filter(collection__owner=user).select_related("collection")


def operations_active_for_user(user_id: int) -> list[Operation]:
    return list(
        Operation.objects.filter(collection__owner_id=user_id)
        .exclude(status__in=Operation.FINAL_STATUSES)
        .order_by("created_at")
    )
