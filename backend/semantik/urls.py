"""The URL map: the REST API under /api with its OpenAPI description, the admin, Prometheus metrics,
and the web UI for everything else."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from semantik.api import not_found


class AnyPath:
    """Like `path`, but also across a newline (`%0A`), so no URL under /api escapes the JSON 404."""

    regex = "(?s:.+)"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPath, "anypath")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("semantik.accounts.urls")),
    path("api/health/", include("semantik.health.urls")),
    path("api/v2/", include("semantik.collections.urls")),
    path("api/v2/", include("semantik.documents.urls")),
    path("api/v2/", include("semantik.operations.urls")),
    path("api/v2/", include("semantik.search.urls")),
    # OpenAPI 3: the schema (YAML, or JSON with ?format=json) and Swagger UI served from our static,
    # its start-up script a file of its own (`?script`): the Content-Security-Policy runs no inline script.
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v2/", include("semantik.catalog.urls")),
    path("api/<anypath:rest>", not_found),
    path("metrics", include("semantik.metrics.urls")),
    path("", include("semantik.web.urls")),
]
