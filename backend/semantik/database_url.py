"""Turns a DATABASE_URL string into the dictionary Django expects."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from semantik.env import SettingError


def parse_database_url(url: str, conn_max_age: int = 0) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SettingError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SettingError("DATABASE_URL names no database (postgresql://user@host:port/NAME)")
    options = dict(parse_qsl(parts.query))
    host = unquote(parts.hostname or "")
    # A socket directory can be given as ?host=/run/postgresql, as libpq allows.
    host = options.pop("host", host)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5, **options},
    }
