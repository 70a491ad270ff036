"""Routes under /api/health/."""

from django.urls import path

from semantik.health import views

urlpatterns = [
    path("livez", views.livez, name="health-livez"),
    path("readyz", views.readyz, name="health-readyz"),
]
