"""Routes for sources and documents under /api/v2/collections/{id}/."""

from django.urls import path

from semantik.documents import views

collection = "collections/<uuid:collection_id>"

urlpatterns = [
    path("chunking/preview", views.ChunkingPreviewView.as_view(), name="chunking-preview"),
    path(f"{collection}/reindex", views.ReindexView.as_view(), name="collection-reindex"),
    path(f"{collection}/sources", views.SourceListView.as_view(), name="source-list"),
    path(f"{collection}/sources/<uuid:source_id>", views.SourceDetailView.as_view(), name="source-detail"),
    path(
        f"{collection}/sources/<uuid:source_id>/rescan",
        views.SourceRescanView.as_view(),
        name="source-rescan",
    ),
    path(f"{collection}/documents", views.DocumentListView.as_view(), name="document-list"),
    path(
        f"{collection}/documents/<uuid:document_id>",
        views.DocumentDetailView.as_view(),
        name="document-detail",
    ),
]
