"""Security headers on every page, CORS same-origin unless configured, CSRF for the session pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests.test_settings import setting

ALLOWED = "https://app.example.com"


class _Scripts(HTMLParser):
    """The page's <script> elements: their src, or their inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.inline: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = dict(attrs)
            if self._in_script.get("src"):
                self.sources.append(self._in_script["src"] or "")

    def handle_data(self, data: str) -> None:
        # Data blocks (application/json) are not run, so a policy without inline scripts allows them.
        kind = (self._in_script or {}).get("type") or "text/javascript"
        if self._in_script is not None and data.strip() and "json" not in kind:
            self.inline.append(data.strip()[:80])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def scripts_of(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


def csp(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    directives = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/collections/some/route", "/api/docs", "/admin/login/", "/api/health/livez"]
)
def test_every_page_carries_the_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "ws://testserver" in policy["connect-src"] and "wss://testserver" in policy["connect-src"]
    # Plain HTTP: no HSTS (a browser would ignore it, and it must not outlive a test setup).
    assert "Strict-Transport-Security" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/docs", "/admin/login/"])
def test_pages_run_only_scripts_from_our_own_origin_as_the_policy_demands(client: Client, path: str) -> None:
    page = scripts_of(client.get(path).content.decode())
    assert page.inline == [], f"inline scripts the policy would block: {page.inline}"
    assert all(src.startswith("/") and not src.startswith("//") for src in page.sources), page.sources
    for src in page.sources:
        script = client.get(src)
        assert script.status_code == 200, src
        assert "javascript" in script["Content-Type"], (src, script["Content-Type"])


def test_the_built_ui_runs_only_scripts_from_our_own_origin(settings) -> None:  # type: ignore[no-untyped-def]
    index = Path(settings.UI_BUILD_DIR) / "index.html"
    if not index.is_file():
        pytest.skip("the UI is not built here (make frontend-build); the no-UI page is checked above")
    page = scripts_of(index.read_text())
    assert page.inline == [] and page.sources
    assert all(src.startswith("/") and not src.startswith("//") for src in page.sources)
    assert not re.search(r"https?://", index.read_text()), "the UI loads something from another origin"


@pytest.mark.django_db
def test_hsts_is_sent_on_https_when_secure_ssl_is_configured(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/api/health/livez", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_secure_ssl_turns_on_hsts_and_secure_cookies(tmp_path: Path) -> None:
    assert setting("SECURE_HSTS_SECONDS", tmp_path) == "0"
    assert setting("SESSION_COOKIE_SECURE", tmp_path) == "False"
    assert setting("SECURE_HSTS_SECONDS", tmp_path, SECURE_SSL="true") == "31536000"
    assert setting("CSRF_COOKIE_SECURE", tmp_path, SECURE_SSL="true") == "True"
    assert setting("CORS_ALLOWED_ORIGINS", tmp_path) == "[]"
    assert setting("CORS_ALLOWED_ORIGINS", tmp_path, CORS_ALLOWED_ORIGINS=f"{ALLOWED}, http://b:8080") == str(
        [ALLOWED, "http://b:8080"]
    )


# --- CORS -----------------------------------------------------------------------------------------


def preflight(client: Client, origin: str, path: str = "/api/v2/collections"):  # type: ignore[no-untyped-def]
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@pytest.mark.django_db
def test_by_default_no_other_origin_may_read_the_api(client: Client, api) -> None:  # type: ignore[no-untyped-def]
    response = preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    answered = api.get("/api/v2/collections", HTTP_ORIGIN="https://evil.example")
    assert answered.status_code == 200
    assert "Access-Control-Allow-Origin" not in answered
    assert "Origin" in answered["Vary"]


@pytest.mark.django_db
def test_an_allowed_origin_gets_its_preflight_and_reads_the_answers(client: Client, api, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    response = preflight(client, ALLOWED)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    # Credentials travel in a header, never cookies: a page elsewhere cannot act with the user's cookies.
    assert "Access-Control-Allow-Credentials" not in response
    answered = api.get("/api/v2/collections", HTTP_ORIGIN=ALLOWED)
    assert answered["Access-Control-Allow-Origin"] == ALLOWED
    assert "X-Request-ID" in answered["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in preflight(client, "https://evil.example")
    # Only the API answers other origins; the UI and the admin stay same-origin.
    assert "Access-Control-Allow-Origin" not in client.get("/admin/login/", HTTP_ORIGIN=ALLOWED)


# --- CSRF: the admin's session-authenticated forms ---------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_form_needs_its_csrf_token_and_a_trusted_origin(admin_user, settings) -> None:  # type: ignore[no-untyped-def]
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token is not None
    body = {"username": "admin", "password": "password", "next": "/admin/"}
    assert browser.post("/admin/login/", body).status_code == 403
    settings.CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8080"]
    cross_site = browser.post(
        "/admin/login/", {**body, "csrfmiddlewaretoken": token[1]}, HTTP_ORIGIN="https://evil.example"
    )
    assert cross_site.status_code == 403
    same_site = browser.post("/admin/login/", {**body, "csrfmiddlewaretoken": token[1]})
    assert same_site.status_code == 302 and same_site["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_api_takes_a_bearer_token_without_csrf(api) -> None:  # type: ignore[no-untyped-def]
    # No cookie authenticates the API, so a cross-site form cannot post in the user's name and
    # no CSRF token is needed for it.
    api.handler.enforce_csrf_checks = True
    response = api.post("/api/v2/collections", {"name": "No CSRF needed"}, format="json")
    assert response.status_code == 201
