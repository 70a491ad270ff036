"""The OpenAPI description: generated for the whole API, served as a schema and as an offline page."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

MAIN_PATHS = {
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/auth/me",
    "/api/auth/password",
    "/api/auth/keys",
    "/api/auth/keys/{key_id}",
    "/api/v2/collections",
    "/api/v2/collections/{collection_id}",
    "/api/v2/collections/{collection_id}/sources",
    "/api/v2/collections/{collection_id}/documents",
    "/api/v2/operations",
    "/api/v2/operations/{operation_id}",
    "/api/v2/search",
}


def test_the_schema_generates_valid_openapi_listing_the_main_paths():  # type: ignore[no-untyped-def]
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= MAIN_PATHS
    assert set(schema["components"]["securitySchemes"]) == {"jwtAuth", "apiKeyAuth"}
    # The account endpoints are fully described: no warning or error points into them.
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not [p for p in problems if "semantik/accounts/" in p or "/api/auth" in p], problems
    create_key = schema["paths"]["/api/auth/keys"]["post"]
    assert create_key["security"] == [{"jwtAuth": []}]
    assert "201" in create_key["responses"]


@pytest.mark.django_db
def test_the_schema_is_served_without_credentials(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/schema?format=json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) >= MAIN_PATHS


@pytest.mark.django_db
def test_the_docs_page_works_offline_from_our_own_static_files(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in page
    assert not any(cdn in page for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"))
    assert client.get(bundle).status_code == 200
