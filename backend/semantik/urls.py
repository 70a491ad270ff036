"""The URL map: the REST API under /api, the admin, Prometheus metrics, and the web UI for everything else."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from semantik.api import not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("semantik.accounts.urls")),
    path("api/health/", include("semantik.health.urls")),
    path("api/v2/", include("semantik.collections.urls")),
    path("api/v2/", include("semantik.documents.urls")),
    path("api/v2/", include("semantik.operations.urls")),
    path("api/v2/", include("semantik.search.urls")),
    path("api/v2/", include("semantik.catalog.urls")),
    path("api/<path:rest>", not_found),
    path("metrics", include("semantik.metrics.urls")),
    path("", include("semantik.web.urls")),
]
