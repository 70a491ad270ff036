"""The ids that tie log lines together: the HTTP request being answered, the operation being run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# Set by semantik.logs.middleware for each request (and carried into the Celery tasks it queues).
request_id: ContextVar[str | None] = ContextVar("semantik_request_id", default=None)
# Set while an operation runs (semantik.documents.services._run).
operation_id: ContextVar[str | None] = ContextVar("semantik_operation_id", default=None)


@contextlib.contextmanager
def bound(variable: ContextVar[str | None], value: object) -> Iterator[None]:
    """Set one of the ids for the duration of a block, restoring what it was after."""
    token = variable.set(str(value) if value is not None else None)
    try:
        yield
    finally:
        variable.reset(token)


def operation(value: object) -> contextlib.AbstractContextManager[None]:
    """Every line logged in this block names the operation (on this thread, and on threads started
    with its context)."""
    return bound(operation_id, value)
