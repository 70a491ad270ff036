"""Routes for the model catalog under /api/v2/."""

from django.urls import path

from semantik.catalog import views

urlpatterns = [path("models", views.ModelListView.as_view(), name="model-list")]
