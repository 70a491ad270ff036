"""Who may read /metrics: staff users, or whoever presents the METRICS_TOKEN bearer token (Prometheus)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

METRICS_TOKEN_AUTH = "metrics-token"


class MetricsTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <METRICS_TOKEN>`; any other header is left to the JWT authentication."""

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        token = settings.METRICS_TOKEN
        parts = get_authorization_header(request).split()
        if not token or len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        if not hmac.compare_digest(parts[1], token.encode()):
            return None
        return AnonymousUser(), METRICS_TOKEN_AUTH

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class CanReadMetrics(BasePermission):
    message = "Metrics are for staff users, or need the METRICS_TOKEN bearer token."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth == METRICS_TOKEN_AUTH or bool(request.user and request.user.is_staff)
