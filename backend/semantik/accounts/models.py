"""API keys, and the registration switch staff can flip at run time."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A long-lived credential for scripts: `Authorization: Api-Key smk_<prefix>_<secret>`.

    Only a SHA-256 digest of the key is stored. The secret part is 256 random bits, so a fast
    hash is enough: there is nothing to guess a dictionary from.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read (GET)"
        SEARCH = "search", "Search"
        WRITE = "write", "Write (POST, PATCH, DELETE)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=128)
    # The public first part of the key: finds the row, and lets a user tell keys apart in lists.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=16, choices=Scope.choices))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class RegistrationSettings(models.Model):
    """One row: whether registration is open, overriding the REGISTRATION_OPEN setting when set."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    # null: follow settings.REGISTRATION_OPEN.
    open = models.BooleanField(
        null=True,
        blank=True,
        help_text="Leave unknown to follow the REGISTRATION_OPEN setting of the server.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "registration"
        verbose_name_plural = "registration"

    def __str__(self) -> str:
        if self.open is None:
            return "Registration follows REGISTRATION_OPEN"
        return "Registration open" if self.open else "Registration closed"
