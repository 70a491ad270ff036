"""Account reads: whether registration is open, a user's API keys, the key behind a request."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from semantik.accounts.keys import key_matches, key_prefix
from semantik.accounts.models import ApiKey, RegistrationSettings


def registration_is_open() -> bool:
    """The staff's override from the admin when there is one, otherwise REGISTRATION_OPEN."""
    override = RegistrationSettings.objects.filter(pk=RegistrationSettings.SINGLETON_ID).first()
    if override is not None and override.open is not None:
        return override.open
    return bool(settings.REGISTRATION_OPEN)


def api_keys_for_user(user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at", "id")


def api_key_get_for_user(user: User, key_id: UUID | str) -> ApiKey:
    """The key, or 404 whether it does not exist or belongs to someone else."""
    key = api_keys_for_user(user).filter(pk=key_id).first()
    if key is None:
        raise NotFound(f"API key {key_id} not found.")
    return key


def api_key_for_secret(raw: str) -> ApiKey | None:
    """The key whose secret is `raw`, usable or not; None when no key has it."""
    prefix = key_prefix(raw)
    if prefix is None:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not key_matches(raw, key.secret_hash):
        return None
    return key
