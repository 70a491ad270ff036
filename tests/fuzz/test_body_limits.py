"""Oversized and pathological bodies: JSON over DATA_UPLOAD_MAX_MEMORY_SIZE and uploads over their
limits are a 413 in the one error shape that says which limit, and nothing is stored; JSON nested
past what a parser can follow is a 400. Never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from semantik.collections.models import Collection
from semantik.operations.models import Operation


def assert_too_large(response, limit_name: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 413, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert limit_name in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v2/collections", lambda pad: {"name": "Big", "description": pad}),
        ("/api/v2/search", lambda pad: {"query": pad, "collections": []}),
        ("/api/v2/chunking/preview", lambda pad: {"text": pad}),
        ("/api/auth/login", lambda pad: {"username": pad, "password": pad}),
        ("/api/auth/register", lambda pad: {"username": "x", "password": pad}),
    ],
    ids=["collections", "search", "preview", "login", "register"],
)
def test_a_json_body_over_the_limit_is_413_naming_it_and_changes_nothing(api, settings, path, body):  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    payload = json.dumps(body("x" * (64 * 1024)))
    response = api.generic("POST", path, payload, content_type="application/json")
    assert_too_large(response, "DATA_UPLOAD_MAX_MEMORY_SIZE")
    assert not Collection.objects.exists()


@pytest.mark.django_db
def test_a_json_body_just_within_the_limit_is_read(api, settings, models):  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    payload = json.dumps({"name": "Fits", "description": "x" * 1000})
    assert len(payload) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert (
        api.generic("POST", "/api/v2/collections", payload, content_type="application/json").status_code
        == 201
    )


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_json_nested_deeper_than_a_parser_follows_is_400(api, depth):  # type: ignore[no-untyped-def]
    payload = "[" * depth + "]" * depth
    response = api.generic("POST", "/api/v2/search", payload, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.django_db(transaction=True)
def test_through_a_real_server_a_json_body_over_the_default_limit_is_413(  # type: ignore[no-untyped-def]
    live_server_asgi, user
):
    from tests.conftest import access_token_for

    headers = {"Authorization": f"Bearer {access_token_for(user)}", "Content-Type": "application/json"}
    body = json.dumps({"name": "Big", "description": "x" * (3 * 1024 * 1024)}).encode()
    response = httpx.post(
        f"{live_server_asgi.url}/api/v2/collections", content=body, headers=headers, timeout=60
    )
    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"]["code"] == "too_large"
    assert not Collection.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_through_a_real_server_an_upload_over_the_request_limit_is_413_and_stores_nothing(  # type: ignore[no-untyped-def]
    live_server_asgi, user, settings, upload_root, models
):
    from tests.conftest import access_token_for

    settings.UPLOAD_MAX_REQUEST_BYTES = 256 * 1024
    settings.UPLOAD_MAX_BYTES = 128 * 1024
    headers = {"Authorization": f"Bearer {access_token_for(user)}"}
    with httpx.Client(base_url=live_server_asgi.url, headers=headers, timeout=60) as http:
        collection = http.post("/api/v2/collections", json={"name": "Uploads"}).json()["id"]
        files = [("files", (f"part-{i}.txt", b"words " * 20_000, "text/plain")) for i in range(3)]
        over_request = http.post(f"/api/v2/collections/{collection}/uploads", files=files)
        assert_too_large(over_request, "UPLOAD_MAX_REQUEST_BYTES")
        one_big = http.post(
            f"/api/v2/collections/{collection}/uploads",
            files=[("files", ("big.txt", b"words " * 30_000, "text/plain"))],
        )
        assert_too_large(one_big, "UPLOAD_MAX_BYTES")
        assert "big.txt" in one_big.json()["error"]["message"]
    stored = [p for p in upload_root.rglob("*") if p.is_file()] if upload_root.exists() else []
    assert stored == []
    assert not Operation.objects.exists()
