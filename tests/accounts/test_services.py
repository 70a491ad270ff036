"""Account services: the first administrator, and API key bookkeeping."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from semantik.accounts.models import ApiKey
from semantik.accounts.services import (
    admin_ensure,
    api_key_create,
    api_key_revoke,
    api_key_touch,
    tokens_refresh,
)
from semantik.accounts.tasks import flush_expired_refresh_tokens

pytestmark = pytest.mark.django_db


def test_admin_is_created_with_the_given_password():  # type: ignore[no-untyped-def]
    result = admin_ensure("root", "s3cret-pass-word")
    assert result.created and result.generated_password is None
    user = authenticate(username="root", password="s3cret-pass-word")
    assert user is not None and user.is_superuser


def test_admin_without_password_gets_a_generated_one_shown_once():  # type: ignore[no-untyped-def]
    first = admin_ensure("root", None)
    assert first.generated_password and authenticate(username="root", password=first.generated_password)
    second = admin_ensure("root", None)
    assert not second.created and second.generated_password is None


def test_existing_admin_password_is_never_overwritten():  # type: ignore[no-untyped-def]
    admin_ensure("root", "original-pass-1")
    admin_ensure("root", "another-pass-2")
    assert authenticate(username="root", password="original-pass-1") is not None


def test_ensure_admin_command_prints_the_generated_password(settings, capsys):  # type: ignore[no-untyped-def]
    settings.SEMANTIK_ADMIN_USERNAME = "boss"
    settings.SEMANTIK_ADMIN_PASSWORD = ""
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "boss" in out and "password" in out
    assert get_user_model().objects.get(username="boss").is_staff


def test_touching_a_key_writes_only_when_the_last_write_is_a_minute_old(user, django_assert_num_queries):  # type: ignore[no-untyped-def]
    api_key = api_key_create(user=user, name="script", scopes=["read"]).api_key
    now = timezone.now()
    with django_assert_num_queries(1):
        api_key_touch(api_key, now)
    with django_assert_num_queries(0):
        api_key_touch(api_key, now + timedelta(seconds=59))
    # Another process holding a stale copy of the key does not write over a recent use either.
    stale = ApiKey.objects.get(pk=api_key.pk)
    stale.last_used_at = now - timedelta(hours=1)
    api_key_touch(stale, now + timedelta(seconds=30))
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == now
    api_key_touch(api_key, now + timedelta(seconds=61))
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == now + timedelta(seconds=61)


def test_revoking_twice_keeps_the_first_time(user):  # type: ignore[no-untyped-def]
    api_key = api_key_create(user=user, name="script", scopes=["read"]).api_key
    first = api_key_revoke(api_key).revoked_at
    assert first is not None
    assert api_key_revoke(api_key).revoked_at == first


def test_flushing_forgets_only_expired_refresh_tokens(user):  # type: ignore[no-untyped-def]
    live, old = RefreshToken.for_user(user), RefreshToken.for_user(user)
    old.blacklist()
    OutstandingToken.objects.filter(jti=old["jti"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert flush_expired_refresh_tokens() >= 1
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
    assert not BlacklistedToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_used_twice_at_once_gives_one_new_pair(user):  # type: ignore[no-untyped-def]
    raw = str(RefreshToken.for_user(user))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def use() -> None:
        try:
            barrier.wait()
            tokens_refresh(raw)
            outcomes.append("pair")
        except InvalidToken:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["pair", "refused"]
