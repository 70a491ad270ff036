"""Static files under ASGI: WhiteNoise still serves them, and everything else passes straight through."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from semantik.web.middleware import StaticFilesMiddleware


def get(path: str) -> httpx.Response:
    from semantik.asgi import application

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get(path)

    # On a thread of its own: asyncio.run() refuses to start where another test left a loop running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, fetch()).result()


def test_static_files_are_served_through_the_asgi_application():
    response = get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"] and "body" in response.text


def test_other_requests_pass_through_without_a_turn_on_djangos_one_synchronous_thread():
    # Only a middleware that runs asynchronously lets the views below it run side by side.
    assert StaticFilesMiddleware.async_capable and StaticFilesMiddleware.sync_capable
    assert get("/api/health/livez").status_code == 200
