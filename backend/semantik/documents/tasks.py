"""Celery tasks for ingestion: thin wrappers that load an operation by id and call a service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready

from semantik.documents.services import (
    collections_sync_due,
    operations_resume_orphaned,
    reindex,
    source_index,
    source_remove_run,
)
from semantik.documents.uploads import uploads_sweep_staging
from semantik.operations.models import Operation

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="semantik.index_source", acks_late=True)
def index_source(self: Task, operation_id: str) -> None:
    source_index(operation_id, task_id=self.request.id or "")


@shared_task(bind=True, name="semantik.remove_source", acks_late=True)
def remove_source(self: Task, operation_id: str) -> None:
    source_remove_run(operation_id, task_id=self.request.id or "")


@shared_task(bind=True, name="semantik.reindex_collection", acks_late=True)
def reindex_collection(self: Task, operation_id: str) -> None:
    reindex(operation_id, task_id=self.request.id or "")


@shared_task(name="semantik.sync_collections")
def sync_collections() -> int:
    """Periodic: queue the syncs that are due (Celery beat runs it every minute)."""
    return len(collections_sync_due())


@shared_task(name="semantik.sweep_staged_uploads")
def sweep_staged_uploads() -> int:
    """Periodic: delete staged uploads that crashed requests left behind."""
    return uploads_sweep_staging()


def task_for(operation_type: str) -> Task:
    if operation_type == Operation.Type.REMOVE_SOURCE:
        return remove_source
    if operation_type == Operation.Type.REINDEX:
        return reindex_collection
    return index_source


@worker_ready.connect
def resume_orphaned_operations(**kwargs: Any) -> None:
    # A killed worker's unacknowledged message only comes back after the broker's visibility
    # timeout (hours); its operations are picked up again as soon as a worker is back instead.
    try:
        operations_resume_orphaned()
    except Exception:
        logger.exception("Could not resume orphaned operations")
