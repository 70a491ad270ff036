"""Operations in the Django admin: read-only (their state belongs to the workers), with two actions,
cancel and retry, that go through the same services as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import APIException

from semantik.documents.services import operation_retry
from semantik.operations.models import Operation
from semantik.operations.services import operation_cancel


def _reason(exc: APIException) -> str:
    """The first message of a service's refusal."""
    detail: Any = exc.detail
    while isinstance(detail, (dict, list)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "type",
        "status",
        "collection",
        "user",
        "files_processed",
        "files_total",
        "files_failed",
        "chunks_written",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "type"]
    list_select_related = ["collection", "user"]
    search_fields = ["collection__name", "user__username", "error"]
    date_hierarchy = "created_at"
    actions = ["cancel", "retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        """Whether the actions are offered: to staff who may change operations (superusers may)."""
        return bool(request.user.has_perm("operations.change_operation"))

    @admin.action(description="Cancel the selected operations", permissions=["manage"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Operation]) -> None:
        stopped, stopping = 0, 0
        for operation in queryset:
            try:
                cancelled = operation_cancel(str(operation.pk))
            except APIException as exc:
                self.message_user(request, _reason(exc), messages.ERROR)
                continue
            if cancelled.status == Operation.Status.CANCELLED:
                stopped += 1
            else:
                stopping += 1
        if stopped:
            self.message_user(request, f"Cancelled {stopped} pending operation(s).", messages.SUCCESS)
        if stopping:
            self.message_user(
                request,
                f"Asked {stopping} running operation(s) to stop at their next file.",
                messages.SUCCESS,
            )

    @admin.action(description="Retry the selected operations (failed or cancelled)", permissions=["manage"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Operation]) -> None:
        for operation in queryset.select_related("collection__owner", "user"):
            try:
                queued = operation_retry(operation=operation)
            except APIException as exc:
                self.message_user(request, f"{operation.type} {operation.id}: {_reason(exc)}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{operation.type} {operation.id}: queued again as operation {queued.id}.",
                messages.SUCCESS,
            )
