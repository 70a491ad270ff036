"""Readiness of the services Semantik depends on."""

from __future__ import annotations

import pytest

from semantik.stack.ports import find_free_port

pytestmark = pytest.mark.django_db


def test_readyz_is_200_when_every_service_answers(client, models, triton):  # type: ignore[no-untyped-def]
    response = client.get("/api/health/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["down"] == []
    assert set(body["checks"]) == {"postgres", "redis", "qdrant", "triton"}


def test_readyz_is_503_naming_what_is_down(client, models, triton, settings):  # type: ignore[no-untyped-def]
    settings.REDIS_URL = f"redis://127.0.0.1:{find_free_port()}/0"
    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"
    from semantik.inference.runtime import reset_embedders

    reset_embedders()
    response = client.get("/api/health/readyz")
    assert response.status_code == 503
    body = response.json()
    assert sorted(body["down"]) == ["redis", "triton"]
    assert body["checks"]["triton"]["error"]
    assert body["checks"]["postgres"]["ok"] and body["checks"]["qdrant"]["ok"]


def test_livez_needs_nothing(client):  # type: ignore[no-untyped-def]
    assert client.get("/api/health/livez").json() == {"status": "ok"}
