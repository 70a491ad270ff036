"""The OpenAPI description: the whole API, generated without a warning, valid, true to the responses
the endpoints really give, and served as a schema and as an offline page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from jsonschema import Draft202012Validator
from rest_framework.response import Response
from rest_framework.test import APIClient

from semantik.operations.serializers import OperationSerializer
from semantik.operations.services import OperationState

# Under /api/ but not part of the description: the description itself, its page, the catch-all 404.
UNDESCRIBED = {"/api/schema", "/api/docs", "/api/{rest}"}
APP_TAGS = {"accounts", "collections", "documents", "operations", "search", "catalog", "health", "metrics"}
BOTH_SCHEMES = [{"jwtAuth": []}, {"apiKeyAuth": []}]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The schema as `manage.py spectacular --fail-on-warn --validate` writes it."""
    out = tmp_path_factory.mktemp("openapi") / "schema.json"
    GENERATOR_STATS.reset()
    try:
        call_command(
            "spectacular", "--fail-on-warn", "--validate", "--format", "openapi-json", "--file", str(out)
        )
    except CommandError as exc:
        problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        pytest.fail(f"{exc}: {problems}")
    return dict(json.loads(out.read_text()))


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def api_routes() -> dict[str, set[str]]:
    """Every URL pattern under /api/, as an OpenAPI path, with the methods its view implements."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern.callback

    routes = {}
    for path, callback in walk(get_resolver().url_patterns, ""):
        if not path.startswith("/api/"):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        names = getattr(view, "http_method_names", [])
        routes[path] = {m for m in names if m not in {"options", "head"} and hasattr(view, m)}
    return routes


def test_the_schema_generates_without_a_warning_and_validates(schema):  # type: ignore[no-untyped-def]
    # The fixture ran the generator with --fail-on-warn --validate: reaching here is the proof.
    assert schema["openapi"].startswith("3.")
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))


def test_every_url_under_api_is_described_with_every_method(schema):  # type: ignore[no-untyped-def]
    routes = api_routes()
    assert "/api/health/readyz" in routes and "/api/v2/collections/{collection_id}/uploads" in routes
    for path, methods in routes.items():
        if path in UNDESCRIBED:
            continue
        assert path in schema["paths"], path
        assert methods and methods == set(schema["paths"][path]), path


def test_every_operation_is_tagged_by_its_app_and_answers_errors_in_the_one_shape(schema):  # type: ignore[no-untyped-def]
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in APP_TAGS, (path, method)
        successes = [code for code in operation["responses"] if code.startswith("2")]
        # One success, or created-or-changed (a share given again changes its role: 200, else 201).
        assert len(successes) == 1 or sorted(successes) == ["200", "201"], (path, method, successes)
        for code, response in operation["responses"].items():
            if code >= "400" and not path.startswith("/api/health/"):
                assert response["content"]["application/json"]["schema"] == error, (path, method, code)
                assert response["description"], (path, method, code)
        if not path.startswith("/api/health/"):
            assert "429" in operation["responses"], (path, method)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    body = schema["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "details"}
    assert body["required"] == ["code", "message"]


def test_the_two_credentials_are_described_and_required_where_the_api_needs_them(schema):  # type: ignore[no-untyped-def]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey" and schemes["apiKeyAuth"]["in"] == "header"
    assert schemes["metricsToken"] == {**schemes["metricsToken"], "type": "http", "scheme": "bearer"}
    paths = schema["paths"]
    for path, method, operation in operations(schema):
        if path.startswith("/api/v2/"):
            assert operation["security"] == BOTH_SCHEMES, (path, method)
            assert "401" in operation["responses"], (path, method)
    # Keys and the password need a person logged in; the credential endpoints need nothing.
    assert paths["/api/auth/keys"]["post"]["security"] == [{"jwtAuth": []}]
    assert "login_required" in paths["/api/auth/keys"]["post"]["responses"]["403"]["description"]
    assert "security" not in paths["/api/auth/login"]["post"]
    assert "401" in paths["/api/auth/login"]["post"]["responses"]
    assert paths["/api/health/readyz"]["get"]["security"] == [{}]
    assert {"metricsToken": []} in paths["/metrics"]["get"]["security"]
    # An API key's 403 names the scope the endpoint needs.
    assert "`search` scope" in paths["/api/v2/search"]["post"]["responses"]["403"]["description"]
    assert "`read` scope" in paths["/api/v2/chunking/preview"]["post"]["responses"]["403"]["description"]


def test_lists_are_paginated_uploads_are_multipart_and_queued_work_is_a_202(schema):  # type: ignore[no-untyped-def]
    paths = schema["paths"]

    def ok_schema(path: str, method: str, code: str = "200") -> dict[str, Any]:
        return dict(paths[path][method]["responses"][code]["content"]["application/json"]["schema"])

    for path in [
        "/api/v2/collections",
        "/api/v2/collections/{collection_id}/documents",
        "/api/v2/documents/{document_id}/chunks",
        "/api/v2/operations",
        "/api/v2/models",
        "/api/auth/keys",
    ]:
        assert ok_schema(path, "get")["$ref"].startswith("#/components/schemas/Paginated"), path
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"page", "page_size"} <= names, path
    upload = paths["/api/v2/collections/{collection_id}/uploads"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    files = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]["files"]
    assert files == {**files, "type": "array", "items": {"type": "string", "format": "binary"}}
    assert upload["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UploadQueued"
    }
    for path, method in [
        ("/api/v2/collections/{collection_id}/sources", "post"),
        ("/api/v2/collections/{collection_id}/sources/{source_id}", "delete"),
        ("/api/v2/collections/{collection_id}/sources/{source_id}/rescan", "post"),
        ("/api/v2/collections/{collection_id}/reindex", "post"),
        ("/api/v2/documents/{document_id}/retry", "post"),
    ]:
        assert ok_schema(path, method, "202") == {"$ref": "#/components/schemas/OperationQueued"}, path
        assert "409" in paths[path][method]["responses"], path
    content = paths["/api/v2/documents/{document_id}/content"]["get"]["responses"]["200"]["content"]
    assert content == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]


def test_the_operation_shape_has_every_key_of_an_operations_state() -> None:
    assert set(OperationSerializer().fields) == set(OperationState.__annotations__)


# The responses endpoints really give, checked against the description.


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null type, and an object described
    with properties takes no others, so an undescribed key fails."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key not in {"nullable", "example"}}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_described(schema: dict[str, Any], method: str, path: str, response: Response) -> None:
    """The response's status is described for the operation, and its body fits that description."""
    described = schema["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in described, (method, path, status, response.content)
    validator = Draft202012Validator(
        {
            **described[status]["content"]["application/json"]["schema"],
            "components": _json_schema(schema["components"]),
        }
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, (method, path, status, errors)


@pytest.mark.django_db
def test_collections_sources_uploads_and_operations_answer_as_described(  # type: ignore[no-untyped-def]
    schema, api, models, documents_root, upload_root
):
    (documents_root / "notes.txt").write_text("The lighthouse keeper trimmed the wick.")
    created = api.post("/api/v2/collections", {"name": "Notes"}, format="json")
    assert_described(schema, "POST", "/api/v2/collections", created)
    collection = f"/api/v2/collections/{created.json()['id']}"
    assert_described(schema, "GET", "/api/v2/collections", api.get("/api/v2/collections"))
    assert_described(schema, "GET", "/api/v2/collections/{collection_id}", api.get(collection))
    invalid = api.post("/api/v2/collections", {"name": ""}, format="json")
    assert invalid.status_code == 400 and "details" in invalid.json()["error"]
    assert_described(schema, "POST", "/api/v2/collections", invalid)

    added = api.post(f"{collection}/sources", {"path": str(documents_root)}, format="json")
    assert_described(schema, "POST", "/api/v2/collections/{collection_id}/sources", added)
    busy = api.post(f"{collection}/sources", {"path": str(documents_root)}, format="json")
    assert busy.status_code == 409
    assert_described(schema, "POST", "/api/v2/collections/{collection_id}/sources", busy)
    sources = api.get(f"{collection}/sources")
    assert_described(schema, "GET", "/api/v2/collections/{collection_id}/sources", sources)
    source_id = sources.json()["results"][0]["id"]
    source = api.get(f"{collection}/sources/{source_id}")
    assert_described(schema, "GET", "/api/v2/collections/{collection_id}/sources/{source_id}", source)

    operation = f"/api/v2/operations/{added.json()['operation_id']}"
    assert_described(schema, "GET", "/api/v2/operations", api.get("/api/v2/operations"))
    assert_described(schema, "GET", "/api/v2/operations/{operation_id}", api.get(operation))
    cancelled = api.post(f"{operation}/cancel")
    assert_described(schema, "POST", "/api/v2/operations/{operation_id}/cancel", cancelled)
    assert cancelled.json()["status"] == "cancelled"

    uploaded = api.post(
        f"{collection}/uploads",
        {"files": [SimpleUploadedFile("garden.txt", b"Tomatoes need sun.")], "paths": ["beds/garden.txt"]},
        format="multipart",
    )
    assert_described(schema, "POST", "/api/v2/collections/{collection_id}/uploads", uploaded)
    documents = api.get(f"{collection}/documents")
    assert_described(schema, "GET", "/api/v2/collections/{collection_id}/documents", documents)
    missing = api.get("/api/v2/collections/00000000-0000-0000-0000-000000000000")
    assert_described(schema, "GET", "/api/v2/collections/{collection_id}", missing)


@pytest.mark.django_db
def test_search_preview_and_health_answer_as_described(schema, api, models):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Notes"}, format="json").json()["id"]
    body = {"query": "lighthouse keeper", "collections": [collection], "mode": "keyword"}
    assert_described(schema, "POST", "/api/v2/search", api.post("/api/v2/search", body, format="json"))
    preview = api.post(
        "/api/v2/chunking/preview",
        {"text": "# Log\n\nThe keeper trimmed the wick.", "file_name": "log.md"},
        format="json",
    )
    assert preview.json()["chunks"]
    assert_described(schema, "POST", "/api/v2/chunking/preview", preview)
    assert_described(schema, "GET", "/api/health/livez", APIClient().get("/api/health/livez"))
    unauthenticated = APIClient().get("/api/v2/collections")
    assert unauthenticated.status_code == 401
    assert_described(schema, "GET", "/api/v2/collections", unauthenticated)


@pytest.mark.django_db
def test_the_schema_is_served_without_credentials(client, schema):  # type: ignore[no-untyped-def]
    response = client.get("/api/schema?format=json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(schema["paths"])


@pytest.mark.django_db
def test_the_docs_page_works_offline_from_our_own_static_files(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in page
    assert not any(cdn in page for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"))
    assert client.get(bundle).status_code == 200
