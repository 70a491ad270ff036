"""The first administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from semantik.accounts.services import admin_ensure

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
