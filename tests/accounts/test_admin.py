"""The admin: revoking API keys, and opening or closing registration at run time."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from semantik.accounts.models import ApiKey, RegistrationSettings
from semantik.accounts.services import api_key_create

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):  # type: ignore[no-untyped-def]
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    return client


def test_staff_revoke_keys_from_the_list(staff, user):  # type: ignore[no-untyped-def]
    created = api_key_create(user=user, name="script", scopes=["read"])
    response = staff.post(
        "/admin/accounts/apikey/",
        {"action": "revoke", "_selected_action": [str(created.api_key.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert ApiKey.objects.get().revoked_at is not None
    assert APIClient().get("/api/auth/me", HTTP_X_API_KEY=created.key).status_code == 401


def test_the_key_page_shows_the_digest_read_only_and_keys_cannot_be_added(staff, user):  # type: ignore[no-untyped-def]
    api_key = api_key_create(user=user, name="script", scopes=["read"]).api_key
    page = staff.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.secret_hash in page
    assert 'name="secret_hash"' not in page
    assert staff.get("/admin/accounts/apikey/add/").status_code == 403


def test_staff_open_registration_against_the_setting(staff, settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = False
    assert staff.get("/admin/accounts/registrationsettings/").status_code == 302
    response = staff.post("/admin/accounts/registrationsettings/1/change/", {"open": "true"})
    assert response.status_code == 302
    assert RegistrationSettings.objects.get().open is True
    body = {"username": "carol", "password": PASSWORD}
    assert APIClient().post("/api/auth/register", body, format="json").status_code == 201
    staff.post("/admin/accounts/registrationsettings/1/change/", {"open": "unknown"})
    assert RegistrationSettings.objects.get().open is None
    body = {"username": "dave", "password": PASSWORD}
    assert APIClient().post("/api/auth/register", body, format="json").status_code == 403
