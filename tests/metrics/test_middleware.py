"""Every HTTP request is timed by its route, also when the ASGI server (uvicorn) serves it."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY


def count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("semantik_http_request_seconds_count", labels) or 0.0


def test_requests_served_over_asgi_are_timed(live_server_asgi):  # type: ignore[no-untyped-def]
    before = count("api/health/livez", "200")
    assert httpx.get(f"{live_server_asgi.url}/api/health/livez").status_code == 200
    assert count("api/health/livez", "200") - before == 1
