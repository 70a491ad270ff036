"""Routes for sources under /api/v2/."""

from django.urls import path

from semantik.documents import views

urlpatterns = [
    path("collections/<uuid:collection_id>/sources", views.SourceListView.as_view(), name="source-list"),
]
