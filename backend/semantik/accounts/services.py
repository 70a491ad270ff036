"""Account writes: the first administrator, registration, passwords, refresh tokens and API keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from semantik.accounts.keys import generate_key
from semantik.accounts.models import ApiKey
from semantik.accounts.selectors import registration_is_open

# last_used_at is for people ("used today?"): one write a minute per key, not one per request.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


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


def _password_check(password: str, user: User, field: str) -> None:
    """AUTH_PASSWORD_VALIDATORS, as a 400 naming `field` and every rule the password breaks."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc


def user_register(*, username: str, password: str, email: str = "") -> User:
    """A new, ordinary account, while registration is open. Usernames are unique ignoring case."""
    if not registration_is_open():
        raise PermissionDenied(
            "Registration is closed on this server; ask an administrator for an account.",
            code="registration_closed",
        )
    taken = ValidationError({"username": [f"The username {username!r} is taken."]})
    if User.objects.filter(username__iexact=username).exists():
        raise taken
    _password_check(password, User(username=username, email=email), "password")
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        # Two registrations of one name (in any case) at once: the database's index decides.
        raise taken from exc


class TokenPair(TypedDict):
    access: str
    refresh: str


def tokens_for_user(user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # recorded as outstanding, so it can be revoked
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token(raw: str) -> RefreshToken:
    """The refresh token `raw`, checked: signature, type, expiry and the blacklist."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidToken({"detail": str(exc), "code": "token_not_valid"}) from exc


def tokens_refresh(raw: str) -> TokenPair:
    """A new access and refresh token for a valid refresh token, which is revoked (rotation).

    The token's row is locked while it is checked and revoked, so two requests racing with one
    refresh token get one new pair between them, not two.
    """
    token = _refresh_token(raw)
    with transaction.atomic():
        token.outstand()
        outstanding = OutstandingToken.objects.select_for_update().get(jti=token[jwt_settings.JTI_CLAIM])
        if BlacklistedToken.objects.filter(token=outstanding).exists():
            raise InvalidToken({"detail": "Token is blacklisted", "code": "token_not_valid"})
        user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
        if user is None or not user.is_active:
            raise AuthenticationFailed("No active account found for the given token.", "no_active_account")
        if token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The password has changed since this token was issued.", "password_changed"
            )
        BlacklistedToken.objects.create(token=outstanding)
        return tokens_for_user(user)


def refresh_token_revoke(raw: str) -> None:
    """Log out: the refresh token can no longer be used."""
    _refresh_token(raw).blacklist()


def refresh_tokens_revoke_all(user: User) -> int:
    """Revoke every refresh token of `user` that has not expired; the number revoked."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(created)


def refresh_tokens_flush_expired() -> int:
    """Forget refresh tokens past their expiry (and their revocations): they cannot be used anyway."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@transaction.atomic
def password_change(user: User, *, old_password: str, new_password: str) -> TokenPair:
    """Change the password and end every session; returns a fresh pair for the caller's own."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not correct."]})
    _password_check(new_password, user, "new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    refresh_tokens_revoke_all(user)
    return tokens_for_user(user)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # the whole secret: returned by the create endpoint, then never again


def api_key_create(
    *, user: User, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> CreatedApiKey:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["An API key must expire in the future."]})
    wanted = set(scopes)
    ordered = [scope for scope in ApiKey.Scope.values if scope in wanted]
    # A prefix is 8 random characters; a collision is rare but the unique index makes it safe.
    for _ in range(5):
        new = generate_key()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    user=user,
                    name=name,
                    prefix=new.prefix,
                    secret_hash=new.digest,
                    scopes=ordered,
                    expires_at=expires_at,
                )
        except IntegrityError:
            continue
        return CreatedApiKey(api_key=api_key, key=new.key)
    raise RuntimeError("Could not find a free API key prefix in 5 tries.")


def api_key_revoke(api_key: ApiKey) -> ApiKey:
    """Revoke the key from now on; revoking a revoked key keeps its first revocation time."""
    if api_key.revoked_at is None:
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(api_key: ApiKey, now: datetime | None = None) -> None:
    """Record that the key was used, at most once per API_KEY_TOUCH_INTERVAL."""
    now = now or timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < API_KEY_TOUCH_INTERVAL:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - API_KEY_TOUCH_INTERVAL)
    ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
