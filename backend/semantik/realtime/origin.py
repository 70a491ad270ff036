"""Origin checking for the WebSocket: browsers on other sites are refused, scripts are not.

Channels' own validator also refuses handshakes that carry no Origin header, which shuts out
every non-browser client. A missing Origin means the client is not a browser, so no other site's
page can be driving it; the token in the subprotocol still has to be valid.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host


def _origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host = urlsplit(origin).hostname
    return host is not None and validate_host(host, settings.ALLOWED_HOSTS)


class OriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(_origin(scope)):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
