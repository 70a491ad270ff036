"""Collections in the Django admin: what shapes their vectors is read-only, and a delete goes through
the collections service, so the Qdrant collection and the uploaded files go with the row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from semantik.api import Conflict
from semantik.collections.models import Collection, CollectionShare
from semantik.collections.services import (
    collection_delete,
    collection_share,
    collection_share_update,
    collection_unshare,
)
from semantik.documents.models import Document, Source
from semantik.operations.models import Operation


def _per_collection(rows: QuerySet[Any], aggregate: Count | Sum) -> Coalesce:
    """One aggregate of `rows` (filtered by collection=OuterRef("pk")) for each collection, as a subquery."""
    per = rows.order_by().values("collection").annotate(value=aggregate).values("value")
    return Coalesce(Subquery(per), 0)


def deletion_refusals(collections: QuerySet[Collection]) -> list[str]:
    """Why some of `collections` cannot be deleted now: an operation is working on them."""
    busy = (
        Operation.objects.filter(collection__in=collections)
        .exclude(status__in=Operation.FINAL_STATUSES)
        .select_related("collection")
    )
    return [
        f"{o.collection.name}: busy with {o.type} operation {o.id}; cancel it or wait for it to finish"
        for o in busy
    ]


class DeletionThroughServices(admin.ModelAdmin):
    """Deletes one object at a time through `delete_model` (which calls the services), and turns a
    Conflict (an operation started after the confirmation page was shown) into a message."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            try:
                self.delete_model(request, obj)
            except Conflict as exc:
                self.message_user(request, str(exc.detail), messages.ERROR)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except Conflict as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)
            change = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[object_id]))


class CollectionShareInline(admin.TabularInline):
    """Who else may use the collection. Saved through the sharing services, so ending a share also
    stops that user's sockets receiving the collection's events, as through the API."""

    model = CollectionShare
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


@admin.register(Collection)
class CollectionAdmin(DeletionThroughServices):
    inlines = [CollectionShareInline]
    list_display = [
        "name",
        "owner",
        "is_public",
        "embedding_model",
        "precision",
        "status",
        "source_count",
        "document_count",
        "failed_document_count",
        "chunk_count",
        "created_at",
    ]
    list_filter = ["status", "is_public", "embedding_model", "precision"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
    # The model, precision, dimension and chunking are what its vectors were built with, and the
    # vector pointer is where they are: changing any of them is a reindex (POST .../reindex).
    # The status is the workers' to keep.
    readonly_fields = [
        "id",
        "embedding_model",
        "precision",
        "vector_dimension",
        "chunking_strategy",
        "chunk_size",
        "chunk_overlap",
        "vector_collection",
        "status",
        "source_count",
        "document_count",
        "failed_document_count",
        "chunk_count",
        "created_at",
        "updated_at",
    ]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not CollectionShare:
            super().save_formset(request, form, formset, change)
            return
        shares = formset.save(commit=False)
        for share in formset.deleted_objects:
            collection_unshare(share)
        for share in shares:
            if share.pk is None:
                collection_share(form.instance, username=share.user.get_username(), role=share.role)
            else:
                collection_share_update(share, role=share.role)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Collection]:
        documents = Document.objects.filter(collection=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                source_count=_per_collection(Source.objects.filter(collection=OuterRef("pk")), Count("pk")),
                document_count=_per_collection(documents, Count("pk")),
                failed_document_count=_per_collection(
                    documents.filter(status=Document.Status.FAILED), Count("pk")
                ),
                chunk_count=_per_collection(documents, Sum("chunk_count")),
            )
        )

    @admin.display(description="sources", ordering="source_count")
    def source_count(self, collection: Any) -> int:
        return int(collection.source_count)

    @admin.display(description="documents", ordering="document_count")
    def document_count(self, collection: Any) -> int:
        return int(collection.document_count)

    @admin.display(description="failed", ordering="failed_document_count")
    def failed_document_count(self, collection: Any) -> int:
        return int(collection.failed_document_count)

    @admin.display(description="chunks", ordering="chunk_count")
    def chunk_count(self, collection: Any) -> int:
        return int(collection.chunk_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A collection is made with its Qdrant collection, by POST /api/v2/collections.
        return False

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """What a delete takes, summed up (a collection can hold millions of rows); a collection that
        an operation is working on cannot be deleted, and says why."""
        collections = list(objs)
        ids = [c.pk for c in collections]
        counts = {
            "collections": len(collections),
            "sources": Source.objects.filter(collection__in=ids).count(),
            "documents": Document.objects.filter(collection__in=ids).count(),
            "operations": Operation.objects.filter(collection__in=ids).count(),
        }
        summary = [
            f"{c.name}: its sources, documents and operations, its vectors ({c.vector_collection}) "
            "and its uploaded files"
            for c in collections
        ]
        perms_needed = set() if self.has_delete_permission(request) else {"collection"}
        return summary, counts, perms_needed, deletion_refusals(Collection.objects.filter(pk__in=ids))

    def delete_model(self, request: HttpRequest, obj: Collection) -> None:
        collection_delete(obj)
