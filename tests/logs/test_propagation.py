"""The request id travels with the Celery tasks a request queues, into the worker's log lines."""

from __future__ import annotations

import pytest

from semantik.celery import app
from semantik.logs import context


@app.task(name="tests.logs.request_id_seen")
def request_id_seen() -> str | None:
    return context.request_id.get()


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_during_a_request_runs_with_its_request_id(celery_worker) -> None:  # type: ignore[no-untyped-def]
    with context.bound(context.request_id, "req-from-web"):
        queued = request_id_seen.delay()
    unrelated = request_id_seen.delay()
    assert queued.get(timeout=30) == "req-from-web"
    # A task queued outside any request has none, and the first task's did not stay behind.
    assert unrelated.get(timeout=30) is None
