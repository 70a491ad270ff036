"""GET /api/health/livez and /api/health/readyz."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from semantik.health.checks import run_checks


@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    down = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not down else "unavailable", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)
