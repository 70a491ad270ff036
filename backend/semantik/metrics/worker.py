"""The Celery worker's own Prometheus endpoint, started with the worker (WORKER_METRICS_PORT, 9091).

A worker started by `celery worker` counts its indexing and inference in its own process, which the
web's /metrics cannot see; this serves them at http://<worker>:9091/metrics. `semantik run` starts
its worker inside the web process instead (no `celeryd_init`), and /metrics there has everything.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import celeryd_init
from prometheus_client import REGISTRY, start_http_server

log = logging.getLogger(__name__)


def serve_worker_metrics(port: int, address: str = "0.0.0.0") -> bool:
    """Serve this process's metrics on address:port from a daemon thread; False when it cannot.

    A port already taken (a second worker on the host network) is logged, never fatal: the worker
    is worth more than its metrics.
    """
    try:
        start_http_server(port, addr=address, registry=REGISTRY)
    except OSError as exc:
        log.warning("worker metrics: cannot listen on %s:%d: %s", address, port, exc)
        return False
    log.info("worker metrics on http://%s:%d/metrics", address, port)
    return True


@celeryd_init.connect
def start_with_worker(**kwargs: Any) -> None:
    from django.conf import settings

    if settings.WORKER_METRICS_PORT:
        serve_worker_metrics(settings.WORKER_METRICS_PORT, settings.WORKER_METRICS_ADDRESS)
