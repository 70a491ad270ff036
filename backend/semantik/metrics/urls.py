"""The route of /metrics."""

from django.urls import path

from semantik.metrics import views

urlpatterns = [path("", views.MetricsView.as_view(), name="metrics")]
