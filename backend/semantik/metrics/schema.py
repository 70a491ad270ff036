"""How the METRICS_TOKEN bearer token appears in the OpenAPI description (a drf-spectacular extension)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MetricsTokenScheme(OpenApiAuthenticationExtension):
    target_class = "semantik.metrics.permissions.MetricsTokenAuthentication"
    name = "metricsToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The METRICS_TOKEN setting, for Prometheus: `Authorization: Bearer <token>`.",
        }
