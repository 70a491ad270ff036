"""Routes for collections and their shares under /api/v2/."""

from django.urls import path

from semantik.collections import views

collection = "collections/<uuid:collection_id>"

urlpatterns = [
    path("collections", views.CollectionListView.as_view(), name="collection-list"),
    path(collection, views.CollectionDetailView.as_view(), name="collection-detail"),
    path(f"{collection}/shares", views.ShareListView.as_view(), name="share-list"),
    path(f"{collection}/shares/<int:user_id>", views.ShareDetailView.as_view(), name="share-detail"),
]
