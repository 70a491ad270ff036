"""Sources and documents in the Django admin, read-only: they mirror the files on disk and the vectors
in Qdrant, and change through the API's operations (add, rescan, remove a source; retry a document)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from semantik.documents.models import Document, Source


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A deleted row would leave its vectors in Qdrant, found by search with nothing behind them.
        return False


@admin.register(Source)
class SourceAdmin(ReadOnlyAdmin):
    list_display = ["path", "kind", "collection", "document_count", "created_at", "last_scanned_at"]
    list_filter = ["kind"]
    list_select_related = ["collection"]
    search_fields = ["path", "collection__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).annotate(document_count=Count("documents"))

    @admin.display(description="documents", ordering="document_count")
    def document_count(self, source: Any) -> int:
        return int(source.document_count)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = [
        "relative_path",
        "collection",
        "source",
        "status",
        "mime_type",
        "size",
        "chunk_count",
        "indexed_at",
    ]
    list_filter = ["status", "collection", "mime_type"]
    list_select_related = ["collection", "source"]
    search_fields = ["relative_path", "path"]
