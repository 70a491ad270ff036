"""X-Request-ID: accepted from the client when sane, made up otherwise, echoed, and on every log line."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from tests.logs.capture import json_lines

pytestmark = pytest.mark.urls("tests.logs.urls")


def test_a_sane_request_id_from_the_client_is_kept_and_echoed() -> None:
    response = Client().get("/sync", headers={"X-Request-ID": "proxy-7f3a.42:1"})
    assert response["X-Request-ID"] == "proxy-7f3a.42:1"
    assert response.json() == {"request_id": "proxy-7f3a.42:1"}


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 129, "new\nline", "ümlaut"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    response = Client().get("/sync", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json() == {"request_id": response["X-Request-ID"]}


def test_every_line_logged_while_answering_carries_the_id() -> None:
    with json_lines() as lines:
        response = Client().get("/sync", headers={"X-Request-ID": "r-1"})
        Client().get("/sync", headers={"X-Request-ID": "r-2"})
    mine = [e for e in lines.entries if e.get("request_id") == "r-1"]
    assert [e["message"] for e in mine] == [
        "inside the sync view",
        f"GET /sync 200 ({mine[1]['duration_ms']} ms)",
    ]
    summary = mine[1]
    assert summary["logger"] == "semantik.request"
    assert (summary["method"], summary["path"], summary["status"]) == ("GET", "/sync", 200)
    assert response["X-Request-ID"] == "r-1"
    # Between requests the context holds no id.
    assert {e.get("request_id") for e in lines.entries} == {"r-1", "r-2"}


def test_async_views_and_the_async_path_carry_it_too() -> None:
    get = async_to_sync(AsyncClient().get)
    with json_lines() as lines:
        response = get("/async", headers={"X-Request-ID": "a-1"})
        sync_response = get("/sync", headers={"X-Request-ID": "a-2"})
    assert response["X-Request-ID"] == "a-1" and response.json() == {"request_id": "a-1"}
    # A sync view runs in a thread under ASGI; the id follows it there.
    assert sync_response.json() == {"request_id": "a-2"}
    views = [e for e in lines.entries if e["logger"] == "tests.logs.views"]
    by_message = {e["message"]: e.get("request_id") for e in views}
    assert by_message == {"inside the async view": "a-1", "inside the sync view": "a-2"}


def test_probes_are_logged_at_debug_only() -> None:
    from django.test import override_settings

    with override_settings(ROOT_URLCONF="semantik.urls"), json_lines("semantik.request") as lines:
        Client().get("/api/health/livez")
    assert [e["level"] for e in lines.entries] == ["DEBUG"]
