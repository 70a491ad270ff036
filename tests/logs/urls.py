"""Views for the request-id tests: each logs a line and answers with the id its context holds."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path

from semantik.logs import context

log = logging.getLogger("tests.logs.views")


def sync_view(request: HttpRequest) -> JsonResponse:
    log.info("inside the sync view")
    return JsonResponse({"request_id": context.request_id.get()})


async def async_view(request: HttpRequest) -> JsonResponse:
    log.info("inside the async view")
    return JsonResponse({"request_id": context.request_id.get()})


urlpatterns = [path("sync", sync_view), path("async", async_view)]
