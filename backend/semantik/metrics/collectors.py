"""Semantik's own metrics: what the processes count as they go, and what is read when Prometheus scrapes.

The inference clients' metrics (latency, batch sizes, errors per model and kind) are in
`semantik/inference/metrics.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from semantik.inference.server import model_load_seconds

log = logging.getLogger(__name__)

# Request latency by route pattern (not by path: ids would make every URL its own series).
HTTP_REQUEST_SECONDS = Histogram(
    "semantik_http_request_seconds",
    "Time to answer an HTTP request, by method, route pattern and status (search: route api/v2/search).",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CHUNKS_INDEXED = Counter("semantik_chunks_indexed", "Chunks embedded and written to Qdrant.")
DOCUMENTS_PROCESSED = Counter(
    "semantik_documents_processed", "Documents an operation finished with, by outcome.", ["outcome"]
)
OPERATIONS_FINISHED = Counter(
    "semantik_operations_finished", "Operations that ended, by type and status.", ["type", "status"]
)

# Kombu's Redis transport keeps a queue's prioritised messages in sibling lists with these suffixes.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class ScrapeTimeCollector(Collector):
    """What is read fresh on every scrape: active operations, queued tasks, Triton's model load times.

    A source that does not answer is left out of that scrape; /metrics itself never fails for it.
    `triton_up` says whether Triton's own metrics were fetched (None: no Triton metrics URL is known).
    """

    def __init__(self, triton_up: bool | None = None) -> None:
        self.triton_up = triton_up

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.triton_up is not None:
            yield GaugeMetricFamily(
                "semantik_triton_metrics_up",
                "1 when Triton's own metrics (nv_*) were fetched for this scrape, 0 when it did not answer.",
                value=int(self.triton_up),
            )
        yield from self._active_operations()
        yield from self._queued_tasks()
        load = GaugeMetricFamily(
            "semantik_triton_model_load_seconds",
            "Seconds from launching the embedded tritonserver until the model was ready.",
            labels=["model"],
        )
        for model, seconds in sorted(model_load_seconds().items()):
            load.add_metric([model], seconds)
        if load.samples:
            yield load

    def _active_operations(self) -> Iterator[GaugeMetricFamily]:
        from semantik.operations.models import Operation

        try:
            rows = list(
                Operation.objects.exclude(status__in=Operation.FINAL_STATUSES)
                .values("type", "status")
                .annotate(count=Count("id"))
            )
        except Exception:  # noqa: BLE001 - a metric left out, never a failed scrape
            log.warning("metrics: could not count active operations", exc_info=True)
            return
        active = GaugeMetricFamily(
            "semantik_operations_active",
            "Operations pending or processing, by type and status.",
            labels=["type", "status"],
        )
        for row in rows:
            active.add_metric([row["type"], row["status"]], row["count"])
        yield active

    def _queued_tasks(self) -> Iterator[GaugeMetricFamily]:
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            pipeline = client.pipeline(transaction=False)
            for suffix in _PRIORITY_SUFFIXES:
                pipeline.llen(queue + suffix)
            length = sum(int(n) for n in pipeline.execute())
        except redis.RedisError:
            log.warning("metrics: could not read the length of Celery queue %r", queue, exc_info=True)
            return
        finally:
            client.close()
        yield GaugeMetricFamily(
            "semantik_celery_queue_length", "Tasks waiting in Semantik's Celery queue.", value=length
        )
