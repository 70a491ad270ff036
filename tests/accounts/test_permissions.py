"""API key scopes: `read` for safe methods, `write` for the others, `search` for search."""

from __future__ import annotations

import pytest

from semantik.collections.models import Collection

pytestmark = pytest.mark.django_db

ALL = ["read", "search", "write"]


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    response = api.post("/api/v2/collections", {"name": "Notes"}, format="json")
    assert response.status_code == 201, response.json()
    return Collection.objects.get(pk=response.json()["id"])


def list_collections(client, collection):  # type: ignore[no-untyped-def]
    return client.get("/api/v2/collections"), 200


def create_collection(client, collection):  # type: ignore[no-untyped-def]
    return client.post("/api/v2/collections", {"name": "Made by a key"}, format="json"), 201


def search(client, collection):  # type: ignore[no-untyped-def]
    body = {"query": "roses", "collections": [str(collection.pk)], "k": 3}
    return client.post("/api/v2/search", body, format="json"), 200


@pytest.fixture
def onnx(settings) -> None:  # type: ignore[no-untyped-def]
    # Search embeds the query; in-process ONNX keeps this test free of a Triton server.
    settings.INFERENCE_BACKEND = "onnx"


@pytest.mark.parametrize(
    ("request_", "needed"), [(list_collections, "read"), (create_collection, "write"), (search, "search")]
)
@pytest.mark.parametrize("scope", ALL)
def test_each_request_needs_its_own_scope(key_client, collection, onnx, request_, needed, scope):  # type: ignore[no-untyped-def]
    response, success = request_(key_client([scope]), collection)
    if scope == needed:
        assert response.status_code == success, response.json()
    else:
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "missing_scope"
        assert repr(needed) in error["message"]


def test_a_key_with_every_scope_does_everything(key_client, collection, onnx):  # type: ignore[no-untyped-def]
    client = key_client(ALL, header="x-api-key")
    for request_ in (list_collections, create_collection, search):
        response, success = request_(client, collection)
        assert response.status_code == success, response.json()


def test_scopes_do_not_limit_a_jwt(api, collection, onnx):  # type: ignore[no-untyped-def]
    for request_ in (list_collections, create_collection, search):
        response, success = request_(api, collection)
        assert response.status_code == success, response.json()
