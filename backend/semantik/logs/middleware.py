"""X-Request-ID: taken from the client or a proxy when it is sane, made up otherwise, echoed, logged."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from semantik.logs import context

HEADER = "X-Request-ID"
# An id someone else chose lands in our logs: letters, digits and a few separators, of a sane length.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes come every few seconds: their lines go to DEBUG, not to everyone's INFO.
_QUIET_PREFIXES = ("/api/health/", "/metrics")

logger = logging.getLogger("semantik.request")


def request_id_for(request: HttpRequest) -> str:
    """The request's id: its X-Request-ID header when acceptable, else a new random one."""
    given = request.headers.get(HEADER, "")
    return given if _ACCEPTED.match(given) else uuid.uuid4().hex


def _finish(request: HttpRequest, response: HttpResponseBase, rid: str, started: float) -> None:
    response[HEADER] = rid
    level = logging.DEBUG if request.path.startswith(_QUIET_PREFIXES) else logging.INFO
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    logger.log(
        level,
        "%s %s %s (%.1f ms)",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )


@sync_and_async_middleware
def request_id(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Every line logged while a request is answered carries its id; the response says it too."""
    if iscoroutinefunction(get_response):
        async_get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = get_response

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            rid = request_id_for(request)
            started = time.perf_counter()
            with context.bound(context.request_id, rid):
                response = await async_get_response(request)
                _finish(request, response, rid, started)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        rid = request_id_for(request)
        started = time.perf_counter()
        with context.bound(context.request_id, rid):
            response: HttpResponseBase = get_response(request)
            _finish(request, response, rid, started)
        return response

    return middleware
