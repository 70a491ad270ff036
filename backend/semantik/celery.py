"""The Celery application: configured from Django settings, tasks discovered from every app."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from kombu.transport import redis as kombu_redis

# Signal handlers: the request id travels with each task; a worker serves its own metrics.
from semantik.logs import propagation  # noqa: F401
from semantik.metrics import worker  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")


def _keep_redis_channels_reachable() -> None:
    """Let a Redis channel reach the broker after its connection was dropped (kombu 5.7.0, celery 5.7.0).

    When Redis goes away while the worker holds an unacknowledged acks_late task, the consumer's
    connection-error handler runs `connection.collect()` and then `connection.close()`. collect()
    discards the transport (`transport.client = None`) after the channel's close failed half-way
    (its pending BRPOP read raised), so the second close, and later the task's late ack, make the
    channel build a new Redis pool from `transport.client.hostname`: AttributeError, which is no
    connection error, so the worker stops for good ("Unrecoverable error: AttributeError: 'NoneType'
    object has no attribute 'hostname'"). Celery 5.6 did not call close() there, but its late ack
    on that channel could fail the same way.

    Each channel remembers the broker it was opened for and uses it once its transport was
    discarded: the close then fails as a connection error (ignored by kombu) while Redis is down,
    and the late ack reaches the restarted Redis, removing the message from the unacked set, so
    it is not delivered again when the visibility timeout ends.
    """
    channel_class: Any = kombu_redis.Channel
    if getattr(channel_class, "_semantik_remembers_broker", False):
        return
    connparams = channel_class._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        transport = self.connection
        if transport.client is not None:
            self._semantik_broker = transport.client
        elif getattr(self, "_semantik_broker", None) is not None:
            # Only its channels still hold the discarded transport; they read nothing else from it.
            transport.client = self._semantik_broker
        return connparams(self, asynchronous=asynchronous)

    channel_class._connparams = _connparams
    channel_class._semantik_remembers_broker = True
    # What the fault-injection tests put back to show that the worker supervisor copes without it.
    channel_class._semantik_original_connparams = connparams


_keep_redis_channels_reachable()

app = Celery("semantik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
