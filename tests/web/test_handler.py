"""The ASGI handler answers each HTTP request whole on one pooled thread, requests side by side."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import override_settings
from django.urls import path

from semantik.web.handler import PooledThreadASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)

CONCURRENT = 4
_together = threading.Barrier(CONCURRENT, timeout=10)


View = Callable[[HttpRequest], HttpResponse]


def record_thread(get_response: View) -> View:
    def middleware(request: HttpRequest) -> HttpResponse:
        request.middleware_thread = threading.current_thread().name  # type: ignore[attr-defined]
        response = get_response(request)
        response["X-Response-Thread"] = threading.current_thread().name
        return response

    return middleware


def meet(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    _together.wait()  # every request must be in a view at once, or this times out
    return JsonResponse(
        {"view": threading.current_thread().name, "middleware": request.middleware_thread}  # type: ignore[attr-defined]
    )


urlpatterns = [path("meet", meet)]


async def get_all(app: Any, count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await asyncio.gather(*(client.get("/meet") for _ in range(count)))


def test_requests_run_side_by_side_each_on_one_pooled_thread(settings: Any) -> None:
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[*settings.MIDDLEWARE, "tests.web.test_handler.record_thread"],
        WEB_THREADS=CONCURRENT,
    ):
        handler = PooledThreadASGIHandler()
        responses = asyncio.run(get_all(handler, CONCURRENT))

    assert [r.status_code for r in responses] == [200] * CONCURRENT
    for response in responses:
        body = response.json()
        assert body["view"] == body["middleware"] == response.headers["X-Response-Thread"]
        assert body["view"].startswith("http")
    assert len({r.json()["view"] for r in responses}) == CONCURRENT
