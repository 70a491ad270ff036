"""Routes under /api/health/."""

from django.urls import path

from semantik.health import views

urlpatterns = [
    path("livez", views.LivezView.as_view(), name="health-livez"),
    path("readyz", views.ReadyzView.as_view(), name="health-readyz"),
]
