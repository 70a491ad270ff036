"""API key authentication: `Authorization: Api-Key <key>` or `X-API-Key: <key>`."""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from semantik.accounts.models import ApiKey
from semantik.accounts.selectors import api_key_for_secret
from semantik.accounts.services import api_key_touch

KEYWORD = "Api-Key"


def _key_from(request: Request) -> str | None:
    header = get_authorization_header(request).split()
    if header and header[0].decode(errors="replace").lower() == KEYWORD.lower():
        if len(header) != 2:
            raise AuthenticationFailed(
                "Invalid Api-Key header: give exactly one key.", code="invalid_api_key"
            )
        return header[1].decode(errors="replace")
    other = request.META.get("HTTP_X_API_KEY", "").strip()
    return other or None


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates as the key's owner; `request.auth` is the ApiKey, which permissions check."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = _key_from(request)
        if raw is None:
            return None
        api_key = api_key_for_secret(raw)
        if api_key is None:
            raise AuthenticationFailed("Unknown API key.", code="invalid_api_key")
        if api_key.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.", code="api_key_revoked")
        if api_key.is_expired():
            raise AuthenticationFailed("This API key has expired.", code="api_key_expired")
        if not api_key.user.is_active:
            raise AuthenticationFailed("The owner of this API key is inactive.", code="user_inactive")
        api_key_touch(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
