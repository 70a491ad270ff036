"""Routes for sources, uploads and documents: under /api/v2/collections/{id}/, and /api/v2/documents/{id}."""

from django.urls import path

from semantik.documents import views

collection = "collections/<uuid:collection_id>"
document = "documents/<uuid:document_id>"

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
    path(f"{collection}/uploads", views.UploadView.as_view(), name="upload"),
    path(f"{collection}/documents", views.DocumentListView.as_view(), name="document-list"),
    path(
        f"{collection}/documents/<uuid:document_id>",
        views.DocumentDetailView.as_view(),
        name="document-detail",
    ),
    path(document, views.DocumentView.as_view(), name="document"),
    path(f"{document}/chunks", views.DocumentChunksView.as_view(), name="document-chunks"),
    path(f"{document}/content", views.DocumentContentView.as_view(), name="document-content"),
    path(f"{document}/text", views.DocumentTextView.as_view(), name="document-text"),
    path(f"{document}/retry", views.DocumentRetryView.as_view(), name="document-retry"),
]
