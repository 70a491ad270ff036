"""Routes for search under /api/v2/."""

from django.urls import path

from semantik.search import views

urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("search/evaluate", views.EvaluationView.as_view(), name="search-evaluate"),
]
