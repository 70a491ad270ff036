"""Operation lifecycle: heartbeats, the stale-operation reaper, and resuming after a dead worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from semantik.collections.models import Collection
from semantik.documents.services import source_add
from semantik.operations.models import Operation
from semantik.operations.services import (
    heartbeat,
    operation_start,
    operations_orphaned_here,
    operations_reap_stale,
    worker_identity,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operation(api, models, documents_root, user) -> Operation:  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Lifecycle"}, format="json").json()
    return source_add(collection=Collection.objects.get(pk=body["id"]), path=str(documents_root), user=user)


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def processing(operation: Operation, worker: str, heartbeat_age_s: float) -> None:
    Operation.objects.filter(pk=operation.pk).update(
        status="processing", worker=worker, heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age_s)
    )


def test_the_reaper_fails_an_operation_whose_heartbeat_stopped(operation, settings):  # type: ignore[no-untyped-def]
    processing(operation, "elsewhere:1", heartbeat_age_s=settings.OPERATION_STALE_AFTER_S + 5)
    assert [o.pk for o in operations_reap_stale()] == [operation.pk]
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert "stopped responding" in operation.error and "elsewhere:1" in operation.error


def test_the_reaper_leaves_a_healthy_long_operation_alone(operation, settings):  # type: ignore[no-untyped-def]
    processing(operation, "elsewhere:1", heartbeat_age_s=settings.OPERATION_STALE_AFTER_S - 30)
    assert operations_reap_stale() == []
    operation.refresh_from_db()
    assert operation.status == "processing"


def test_heartbeat_keeps_a_long_step_fresh(operation):  # type: ignore[no-untyped-def]
    processing(operation, worker_identity(), heartbeat_age_s=600)
    with heartbeat(operation, interval_s=0.05):
        time.sleep(0.5)
    operation.refresh_from_db()
    assert timezone.now() - operation.heartbeat_at < timedelta(seconds=5)


def test_an_operation_running_on_a_live_worker_is_not_started_twice(operation):  # type: ignore[no-untyped-def]
    processing(operation, "another-host:4242", heartbeat_age_s=1)
    assert operation_start(str(operation.pk)) is None


def test_an_operation_whose_worker_died_on_this_host_is_resumed(operation):  # type: ignore[no-untyped-def]
    processing(operation, f"{socket.gethostname()}:{a_dead_pid()}", heartbeat_age_s=1)
    assert [o.pk for o in operations_orphaned_here()] == [operation.pk]
    resumed = operation_start(str(operation.pk))
    assert resumed is not None and resumed.worker == worker_identity()
    assert operations_orphaned_here() == []


def test_a_running_operation_reports_its_rate_and_time_left(operation):  # type: ignore[no-untyped-def]
    from semantik.operations.services import operation_state

    Operation.objects.filter(pk=operation.pk).update(
        status="processing",
        started_at=timezone.now() - timedelta(seconds=10),
        files_total=30,
        files_processed=10,
    )
    operation.refresh_from_db()
    state = operation_state(operation)
    assert state["files_per_s"] == pytest.approx(1.0, rel=0.1)
    assert state["eta_s"] == pytest.approx(20, rel=0.1)
