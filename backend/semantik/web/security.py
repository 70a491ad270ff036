"""Security headers every response carries, and CORS for the API: same-origin unless origins are allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

# The built UI is hashed module scripts and stylesheets from our own origin: no inline script, no
# CDN. Styles may be inline (components set style attributes; the no-UI page has a <style>).
# The UI's WebSocket goes to the same host: named explicitly, as older browsers do not count
# ws:/wss: as 'self'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' {websockets}; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, X-API-Key, X-Request-ID"
CORS_EXPOSED = "X-Request-ID, Retry-After, Content-Disposition"
CORS_MAX_AGE_S = 600
CORS_PATHS = ("/api/", "/metrics")


def content_security_policy(request: HttpRequest) -> str:
    host = request.get_host()
    return CONTENT_SECURITY_POLICY.format(websockets=f"ws://{host} wss://{host}")


def _secure(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    # A response that set its own policy (a sandboxed document) keeps it.
    if "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = content_security_policy(request)
    response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    origin = request.headers.get("Origin")
    if origin and request.path.startswith(CORS_PATHS):
        _add_cors(origin, response)
    return response


def _add_cors(origin: str, response: HttpResponseBase) -> None:
    """CORS headers for an allowed origin; none otherwise, so the browser keeps the answer from it.

    No Allow-Credentials: the API is authenticated by a header (a JWT or an API key), never by
    cookies, so another origin's page cannot make a request in the user's name.
    """
    response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
    if origin not in settings.CORS_ALLOWED_ORIGINS:
        return
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = CORS_EXPOSED


def _preflight(request: HttpRequest) -> HttpResponse | None:
    """The answer to a CORS preflight from an allowed origin; None lets the request go on."""
    if (
        request.method != "OPTIONS"
        or "Access-Control-Request-Method" not in request.headers
        or not request.path.startswith(CORS_PATHS)
        or request.headers.get("Origin") not in settings.CORS_ALLOWED_ORIGINS
    ):
        return None
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = CORS_METHODS
    response["Access-Control-Allow-Headers"] = CORS_HEADERS
    response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_S)
    return response


@sync_and_async_middleware
def security_headers(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Content-Security-Policy, Permissions-Policy and CORS; Django's SecurityMiddleware adds nosniff,
    Referrer-Policy, Cross-Origin-Opener-Policy and HSTS, its clickjacking middleware X-Frame-Options."""
    if iscoroutinefunction(get_response):
        async_get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = get_response

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            response = _preflight(request) or await async_get_response(request)
            return _secure(request, response)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = _preflight(request) or get_response(request)
        return _secure(request, response)

    return middleware
