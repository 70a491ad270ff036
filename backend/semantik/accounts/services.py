"""Account writes: creating the first administrator from the environment."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction


@dataclass(frozen=True)
class AdminResult:
    username: str
    created: bool
    generated_password: str | None


@transaction.atomic
def admin_ensure(username: str, password: str | None) -> AdminResult:
    """Create the administrator once; never touch an existing account's password.

    With no password given, one is generated and returned so the caller can show it exactly
    once: it is not stored anywhere but as a hash.
    """
    User = get_user_model()
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return AdminResult(username=username, created=False, generated_password=None)
    generated = None if password else secrets.token_urlsafe(12)
    User.objects.create_superuser(username=username, email="", password=password or generated)
    return AdminResult(username=username, created=True, generated_password=generated)
