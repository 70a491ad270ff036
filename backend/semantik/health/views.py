"""GET /api/health/livez and /api/health/readyz."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.health.checks import run_checks
from semantik.health.serializers import LivenessSerializer, ReadinessSerializer


class ProbeView(APIView):
    """Answers anyone, unthrottled: probes come without credentials, and rate limits live in Redis,
    whose outage must not make the process look dead."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


@extend_schema_view(get=extend_schema(responses=LivenessSerializer))
class LivezView(ProbeView):
    """The process answers."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@extend_schema_view(
    get=extend_schema(
        responses={
            200: ReadinessSerializer,
            503: OpenApiResponse(ReadinessSerializer, description="A service is down: `down` names it."),
        }
    )
)
class ReadyzView(ProbeView):
    """Whether PostgreSQL, Redis, Qdrant and Triton answer, each within a few seconds."""

    def get(self, request: Request) -> Response:
        checks = run_checks()
        down = [name for name, result in checks.items() if not result["ok"]]
        body = {"status": "ok" if not down else "unavailable", "down": down, "checks": checks}
        return Response(body, status=503 if down else 200)
