"""Routes for collections under /api/v2/."""

from django.urls import path

from semantik.collections import views

urlpatterns = [
    path("collections", views.CollectionListView.as_view(), name="collection-list"),
    path("collections/<uuid:collection_id>", views.CollectionDetailView.as_view(), name="collection-detail"),
]
