"""Operations in the Django admin (read-only: their state belongs to the workers)."""

from django.contrib import admin

from semantik.operations.models import Operation


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "status", "collection", "files_processed", "files_total", "created_at"]
    list_filter = ["status", "type"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
