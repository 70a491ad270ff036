"""Times every HTTP request for the semantik_http_request_seconds histogram (sync and async alike)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from semantik.metrics.collectors import HTTP_REQUEST_SECONDS


def _observe(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    match = getattr(request, "resolver_match", None)
    route = match.route if match is not None else "unmatched"
    HTTP_REQUEST_SECONDS.labels(request.method or "", route, str(response.status_code)).observe(
        time.perf_counter() - started
    )


@sync_and_async_middleware
def request_metrics(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):
        async_get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = get_response

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            started = time.perf_counter()
            response = await async_get_response(request)
            _observe(request, response, started)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response: HttpResponseBase = get_response(request)
        _observe(request, response, started)
        return response

    return middleware
