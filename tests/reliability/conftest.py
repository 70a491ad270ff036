"""Fixtures for the fault-injection tests: dependencies of the test's own that can be killed for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import pools as kombu_pools

from semantik.celery import app as celery_app
from semantik.inference.models import DEFAULT_MODEL
from semantik.inference.runtime import reset_embedders
from semantik.inference.server import TritonBinaryNotFound, TritonServer, triton_install
from semantik.stack.valkey import EmbeddedValkey

# A real Celery worker process (`celery worker`), as the live-updates tests start it.
from tests.realtime.conftest import worker_process  # noqa: F401


def _point_celery_at(url: str) -> None:
    """Send tasks to and take them from `url` from now on: the pooled connections go.

    The app's pools are kombu's process-wide ones, registered by broker URL: closing one and
    keeping it registered would hand the closed pool back when this URL is used again ("Acquire on
    closed pool"), so every pool is closed and the registry emptied.
    """
    celery_app.conf.broker_url = url
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_redis(settings, tmp_path: Path) -> Iterator[EmbeddedValkey]:  # type: ignore[no-untyped-def]
    """A Valkey server of this test's own, on its own port, serving as broker, channel layer, cache and
    connection counter; the test may kill it. The machine's shared Redis is never touched."""
    server = EmbeddedValkey(tmp_path / "valkey")
    url = server.start()
    shared_broker = celery_app.conf.broker_url
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [url]},
        }
    }
    _point_celery_at(url)
    try:
        yield server
    finally:
        _point_celery_at(shared_broker)
        server.stop()


@pytest.fixture
def own_triton(model_repository: Path, settings, tmp_path: Path) -> Iterator[TritonServer]:  # type: ignore[no-untyped-def]
    """A tritonserver of this test's own (the session's one stays up for the other tests), serving the
    default model, with Semantik pointed at it. Skipped where no tritonserver binary exists."""
    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    settings.MODEL_REPOSITORY = model_repository
    server = TritonServer(model_repository, log_path=tmp_path / "tritonserver.log", models=[DEFAULT_MODEL])
    server.start(deadline_s=60)
    settings.INFERENCE_BACKEND = "triton"
    settings.TRITON_URL = server.grpc_url
    reset_embedders()
    try:
        yield server
    finally:
        server.stop()
        reset_embedders()
