"""Request rate limits per user, API key or IP address, counted in Redis through the cache.

Rates come from settings.THROTTLE_RATES, read when each request is checked (DRF's own classes
copy the rates once, at import), so a changed setting applies at once.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from semantik.accounts.models import ApiKey

# DRF imports these classes while it builds rest_framework.views: importing it here would be circular.
if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class RateThrottle(SimpleRateThrottle):
    """A throttle whose rate is settings.THROTTLE_RATES[scope] and whose key `ident()` says."""

    scope: str
    # Set by SimpleRateThrottle (untyped there).
    num_requests: int | None
    duration: int | None
    history: list[float]
    now: float

    def get_rate(self) -> str | None:
        try:
            return settings.THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"settings.THROTTLE_RATES has no rate for {self.scope!r}") from exc

    def ident(self, request: Request, view: APIView) -> str | None:
        """Whom this request counts against; None: this throttle does not apply to it."""
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.ident(request, view)
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": ident}

    # With Redis down: refuse (503) or let the request through unlimited. Only the limits that
    # guard against password guessing refuse; reading and searching go on while Redis is away.
    fail_closed = False

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("Rate limits cannot be checked (%s): %s", self.scope, exc)
            if not self.fail_closed:
                return True
            from semantik.api import ServiceUnavailable  # semantik.api imports rest_framework.views

            raise ServiceUnavailable(
                f"Redis is unavailable, so rate limits cannot be checked: {exc}"
            ) from exc

    def wait(self) -> float | None:
        """Seconds until the oldest request that still counts leaves the window (Retry-After)."""
        if self.num_requests is None or self.duration is None:
            return None
        history = self.history
        if len(history) < self.num_requests:
            return None
        oldest_counted = history[self.num_requests - 1]
        return max(1, math.ceil(self.duration - (self.now - oldest_counted)))

    def address(self, request: Request) -> str:
        return f"ip-{self.get_ident(request)}"


def _user_ident(request: Request) -> str | None:
    user = request.user
    return f"user-{user.pk}" if user is not None and user.is_authenticated else None


class LoginThrottle(RateThrottle):
    """Log-in attempts per IP address: guessing passwords stays slow."""

    scope = "login"

    fail_closed = True

    def ident(self, request: Request, view: APIView) -> str | None:
        return self.address(request)


class RegisterThrottle(RateThrottle):
    scope = "register"

    fail_closed = True

    def ident(self, request: Request, view: APIView) -> str | None:
        return self.address(request)


class UserThrottle(RateThrottle):
    """Every request of a signed-in user (through any of their API keys too)."""

    scope = "user"

    def ident(self, request: Request, view: APIView) -> str | None:
        return _user_ident(request)


class AnonThrottle(RateThrottle):
    """Requests without credentials, per IP address."""

    scope = "anon"

    def ident(self, request: Request, view: APIView) -> str | None:
        return None if _user_ident(request) else self.address(request)


class WriteThrottle(RateThrottle):
    """Unsafe methods (POST, PATCH, DELETE) per user; searches count against `search` instead."""

    scope = "write"

    def ident(self, request: Request, view: APIView) -> str | None:
        if request.method in SAFE_METHODS or getattr(view, "api_scope", None) == ApiKey.Scope.SEARCH:
            return None
        return _user_ident(request)


class SearchThrottle(RateThrottle):
    """Views with `api_scope = "search"`: per API key, else per user, else per IP address."""

    scope = "search"

    def ident(self, request: Request, view: APIView) -> str | None:
        if getattr(view, "api_scope", None) != ApiKey.Scope.SEARCH:
            return None
        if isinstance(request.auth, ApiKey):
            return f"key-{request.auth.pk}"
        return _user_ident(request) or self.address(request)
