"""API key authentication: the two headers, and every way a key can be refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from semantik.accounts.models import ApiKey
from semantik.accounts.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(user) -> str:  # type: ignore[no-untyped-def]
    return api_key_create(user=user, name="script", scopes=["read"]).key


@pytest.mark.parametrize(
    "headers",
    [
        lambda key: {"HTTP_AUTHORIZATION": f"Api-Key {key}"},
        lambda key: {"HTTP_AUTHORIZATION": f"api-key {key}"},
        lambda key: {"HTTP_X_API_KEY": key},
    ],
    ids=["authorization", "authorization-any-case", "x-api-key"],
)
def test_a_key_is_accepted_in_either_header(key, headers):  # type: ignore[no-untyped-def]
    response = APIClient().get("/api/auth/me", **headers(key))
    assert response.status_code == 200
    assert response.json()["auth"] == "api_key"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda key: "smk_zzzzzzzz_" + key.split("_", 2)[2],  # unknown prefix
        lambda key: "not-a-key",
        lambda key: key + " extra",
    ],
    ids=["wrong-secret", "unknown-prefix", "malformed", "two-words"],
)
def test_a_wrong_key_is_401(key, mangle):  # type: ignore[no-untyped-def]
    response = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Api-Key {mangle(key)}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response["WWW-Authenticate"]


def test_the_key_of_an_inactive_user_is_401(key, user):  # type: ignore[no-untyped-def]
    user.is_active = False
    user.save()
    response = APIClient().get("/api/auth/me", HTTP_X_API_KEY=key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_a_key_that_expired_is_401(user):  # type: ignore[no-untyped-def]
    created = api_key_create(
        user=user, name="short", scopes=["read"], expires_at=timezone.now() + timedelta(seconds=5)
    )
    ApiKey.objects.filter(pk=created.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert APIClient().get("/api/auth/me", HTTP_X_API_KEY=created.key).status_code == 401


def test_use_is_recorded_at_most_once_a_minute(key):  # type: ignore[no-untyped-def]
    client = APIClient(HTTP_X_API_KEY=key)
    assert client.get("/api/auth/me").status_code == 200
    first = ApiKey.objects.get().last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=10)
    assert client.get("/api/auth/me").status_code == 200
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    assert client.get("/api/auth/me").status_code == 200
    assert ApiKey.objects.get().last_used_at > first
