"""Periodic maintenance of operations."""

from __future__ import annotations

from celery import shared_task

from semantik.operations.services import operations_reap_stale


@shared_task(name="semantik.reap_stale_operations")
def reap_stale_operations() -> int:
    return len(operations_reap_stale())
