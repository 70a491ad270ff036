"""Carries the request id from the web process into the Celery tasks it queues (a message header)."""

from __future__ import annotations

import contextlib
from contextvars import Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from semantik.logs import context

HEADER = "semantik_request_id"
_tokens: dict[str, Token[str | None]] = {}


@before_task_publish.connect
def carry_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    rid = context.request_id.get()
    if rid and headers is not None:
        headers.setdefault(HEADER, rid)


@task_prerun.connect
def adopt_request_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    # Protocol 2 puts custom headers on the request itself; older messages keep them under `headers`.
    rid = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    # No header (an eager task, a periodic one): keep whatever the caller's context holds.
    if rid and task_id:
        _tokens[task_id] = context.request_id.set(str(rid))


@task_postrun.connect
def drop_request_id(task_id: str | None = None, **kwargs: Any) -> None:
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: nothing of ours to undo there
            context.request_id.reset(token)
