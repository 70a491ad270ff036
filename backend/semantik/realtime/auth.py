"""WebSocket authentication: a JWT access token carried in the Sec-WebSocket-Protocol header.

Browsers cannot set an Authorization header on a WebSocket, and a token in the URL ends up in
access logs. The client offers two subprotocols, `bearer` and the token itself; the server
answers with `bearer`, so the token is never echoed back.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

SUBPROTOCOL = "bearer"


def token_from_subprotocols(subprotocols: list[str]) -> str | None:
    if SUBPROTOCOL not in subprotocols:
        return None
    candidates = [p for p in subprotocols if p != SUBPROTOCOL]
    return candidates[0] if candidates else None


@database_sync_to_async
def _user_for_token(raw: str) -> Any:
    """The token's user, checked as the REST API checks it (active, password unchanged since)."""
    try:
        return JWTAuthentication().get_user(AccessToken(raw))  # type: ignore[arg-type]
    except (TokenError, AuthenticationFailed):
        return AnonymousUser()


class JWTSubprotocolAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = token_from_subprotocols(list(scope.get("subprotocols") or []))
        scope = dict(scope, user=await _user_for_token(raw) if raw else AnonymousUser())
        return await super().__call__(scope, receive, send)
