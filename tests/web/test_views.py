"""The web UI's pages: the built app for every client route, never for the API, the admin or static files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

BUILT_INDEX = (
    '<!doctype html><html><body><div id="root"></div>'
    '<script src="/static/ui/assets/app-1a2b.js"></script></body></html>'
)


@pytest.fixture
def built_ui(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.UI_BUILD_DIR = tmp_path
    (tmp_path / "index.html").write_text(BUILT_INDEX)
    return tmp_path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/collections/new",
        "/collections/3f6c0a9e-2b1d-4c8e-9f00-1234567890ab/documents",
        "/search",
        "/keys",
    ],
)
def test_every_client_route_gets_the_built_app(client, built_ui, path):  # type: ignore[no-untyped-def]
    response = client.get(path, {"q": "roses"} if path == "/search" else None)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content.decode() == BUILT_INDEX


def test_the_app_page_is_revalidated_so_a_new_build_is_picked_up(client, built_ui):  # type: ignore[no-untyped-def]
    assert client.get("/").headers["Cache-Control"] == "no-cache"
    (built_ui / "index.html").write_text("<!doctype html><p>rebuilt</p>")
    assert "rebuilt" in client.get("/search").content.decode()


def test_without_a_build_a_placeholder_says_how_to_build_it(client, tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.UI_BUILD_DIR = tmp_path / "missing"
    response = client.get("/collections/new")
    assert response.status_code == 200
    assert "make frontend-build" in response.content.decode()


def test_unknown_api_paths_stay_json_errors(client, built_ui):  # type: ignore[no-untyped-def]
    response = client.get("/api/v2/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/static/ui/assets/missing-0000.js", "/api", "/metrics/extra"])
def test_paths_outside_the_app_are_not_answered_with_it(client, built_ui, path):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert BUILT_INDEX.encode() not in response.content


def test_admin_without_a_slash_still_reaches_the_admin(client, built_ui):  # type: ignore[no-untyped-def]
    response = client.get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"


def test_hashed_ui_assets_are_cached_for_good_and_nothing_else_is():  # type: ignore[no-untyped-def]
    immutable = django_settings.WHITENOISE_IMMUTABLE_FILE_TEST
    assert immutable("", "/static/ui/assets/index-CwnSOU6r.js")
    assert not immutable("", "/static/ui/index.html")
    assert not immutable("", "/static/ui/favicon.svg")
    assert not immutable("", "/static/admin/css/base.css")
