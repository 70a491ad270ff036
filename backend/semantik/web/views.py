"""The UI entry page: the built single-page app's index.html for every client-side route."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest, route: str = "") -> HttpResponse:
    built = Path(settings.UI_BUILD_DIR) / "index.html"
    if built.is_file():
        # Read on each request: a rebuilt UI is served without a restart (the file is under 1 KiB).
        response = HttpResponse(built.read_bytes(), content_type="text/html; charset=utf-8")
    else:
        response = render(request, "web/index.html")
    # The page names the current hashed assets, so it must never be served stale from a cache.
    response["Cache-Control"] = "no-cache"
    return response
