"""Sources and documents in the Django admin (read-only: they mirror the files on disk)."""

from django.contrib import admin

from semantik.documents.models import Document, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["path", "collection", "created_at", "last_scanned_at"]
    readonly_fields = ["id", "collection", "path", "created_at", "last_scanned_at"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["relative_path", "collection", "status", "chunk_count", "indexed_at"]
    list_filter = ["status", "mime_type"]
    search_fields = ["relative_path", "error"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
