"""Celery tasks for ingestion: thin wrappers that load an operation by id and call a service."""

from __future__ import annotations

from celery import Task, shared_task

from semantik.documents.services import source_index, source_remove_run


@shared_task(bind=True, name="semantik.index_source", acks_late=True)
def index_source(self: Task, operation_id: str) -> None:
    source_index(operation_id, task_id=self.request.id or "")


@shared_task(bind=True, name="semantik.remove_source", acks_late=True)
def remove_source(self: Task, operation_id: str) -> None:
    source_remove_run(operation_id, task_id=self.request.id or "")
