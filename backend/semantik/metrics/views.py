"""GET /metrics: Prometheus text with Semantik's metrics, then Triton's own when it answers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from semantik.metrics.collectors import ScrapeTimeCollector
from semantik.metrics.permissions import CanReadMetrics, MetricsTokenAuthentication
from semantik.metrics.triton import triton_metrics


@extend_schema_view(
    get=extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Prometheus text format 0.0.4: Semantik's metrics, then Triton's.",
            )
        }
    )
)
class MetricsView(APIView):
    authentication_classes = [MetricsTokenAuthentication, JWTAuthentication, SessionAuthentication]
    permission_classes = [CanReadMetrics]

    def get(self, request: Request) -> HttpResponse:
        # Triton's text is passed on as Triton wrote it: its counters keep their names (nv_inference_count).
        triton = triton_metrics(settings.TRITON_METRICS_URL) if settings.TRITON_METRICS_URL else None
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(ScrapeTimeCollector(None if not settings.TRITON_METRICS_URL else triton is not None))
        body = generate_latest(REGISTRY) + generate_latest(scraped) + (triton or "").encode()
        return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
