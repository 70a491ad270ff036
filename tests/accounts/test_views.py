"""The /api/auth/ endpoints: registration, log-in, tokens, the current user, passwords, API keys."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from semantik.accounts.models import ApiKey, RegistrationSettings

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(anon, token: str):  # type: ignore[no-untyped-def]
    return anon.post("/api/auth/refresh", {"refresh": token}, format="json")


# Registration


@pytest.fixture
def registration_open(settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = True


def register(anon, username: str = "carol", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return anon.post(
        "/api/auth/register", {"username": username, "password": password, **extra}, format="json"
    )


def test_open_registration_creates_an_ordinary_account_that_can_log_in(anon, registration_open, login):  # type: ignore[no-untyped-def]
    response = register(anon, email="carol@example.org")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "carol" and body["email"] == "carol@example.org"
    assert body["is_staff"] is False and "password" not in body
    assert set(login("carol")) >= {"access", "refresh"}


def test_closed_registration_is_403_with_a_clear_message(anon, settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = False
    response = register(anon)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_closed"
    assert "closed" in response.json()["error"]["message"]
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize(("server_setting", "override", "expected"), [(False, True, 201), (True, False, 403)])
def test_the_admin_override_wins_over_the_setting(anon, settings, server_setting, override, expected):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = server_setting
    RegistrationSettings.objects.create(open=override)
    assert register(anon).status_code == expected


@pytest.mark.parametrize(("debug", "expected"), [("true", "True"), ("false", "False")])
def test_registration_defaults_to_open_only_in_development(debug, expected):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DEBUG": debug, "DJANGO_SETTINGS_MODULE": "semantik.settings"}
    env.pop("REGISTRATION_OPEN", None)
    code = "from django.conf import settings; print(settings.REGISTRATION_OPEN)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_a_username_is_taken_whatever_its_case(anon, user, registration_open, taken):  # type: ignore[no-untyped-def]
    response = register(anon, username=taken)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["username"]
    assert "taken" in response.json()["error"]["message"]


def test_the_database_refuses_two_usernames_differing_only_in_case(user):  # type: ignore[no-untyped-def]
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="ALICE", password=PASSWORD)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("83920174658", "entirely numeric"),
        ("carol-rose1", "similar"),
    ],
)
def test_a_weak_password_is_a_400_naming_the_rule(anon, registration_open, password, rule):  # type: ignore[no-untyped-def]
    response = register(anon, username="carol-rose", password=password)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert any(rule in message for message in response.json()["error"]["details"]["password"])
    assert not User.objects.filter(username="carol-rose").exists()


@pytest.mark.parametrize(
    ("body", "field"), [({"username": "bad name!"}, "username"), ({"email": "nope"}, "email")]
)
def test_bad_registration_fields_are_a_400_naming_them(anon, registration_open, body, field):  # type: ignore[no-untyped-def]
    response = anon.post(
        "/api/auth/register", {"username": "carol", "password": PASSWORD, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


# Log-in and tokens


def test_login_returns_access_and_refresh_tokens(login, user):  # type: ignore[no-untyped-def]
    assert set(login()) >= {"access", "refresh"}


def test_login_with_a_wrong_password_is_401_with_the_error_shape(anon, user):  # type: ignore[no-untyped-def]
    response = anon.post("/api/auth/login", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_an_inactive_user_can_neither_log_in_nor_refresh(anon, user, login):  # type: ignore[no-untyped-def]
    tokens = login()
    user.is_active = False
    user.save()
    response = anon.post("/api/auth/login", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 401
    refreshed = refresh(anon, tokens["refresh"])
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "no_active_account"
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == 401


def test_refresh_rotates_the_refresh_token_and_the_new_pair_works(anon, user, login):  # type: ignore[no-untyped-def]
    tokens = login()
    refreshed = refresh(anon, tokens["refresh"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh"] != tokens["refresh"]
    me = bearer(new["access"]).get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "alice"
    # The old refresh token was revoked by its use; the new one works once too.
    reused = refresh(anon, tokens["refresh"])
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert refresh(anon, new["refresh"]).status_code == 200


def test_an_access_token_is_not_a_refresh_token(anon, user, login):  # type: ignore[no-untyped-def]
    response = refresh(anon, login()["access"])
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_logout_revokes_the_refresh_token(anon, user, login):  # type: ignore[no-untyped-def]
    tokens = login()
    assert anon.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    assert refresh(anon, tokens["refresh"]).status_code == 401
    # Another session of the same user is untouched.
    assert refresh(anon, login()["refresh"]).status_code == 200


def test_logout_with_a_bad_token_is_401(anon):  # type: ignore[no-untyped-def]
    response = anon.post("/api/auth/logout", {"refresh": "not-a-token"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_an_expired_access_token_is_401(user):  # type: ignore[no-untyped-def]
    token = AccessToken.for_user(user)
    token.set_exp(from_time=datetime.now(tz=UTC) - timedelta(hours=1))
    response = bearer(str(token)).get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert "expired" in json.dumps(response.json())


def test_an_expired_refresh_token_is_401(anon, user):  # type: ignore[no-untyped-def]
    token = RefreshToken.for_user(user)
    token.set_exp(from_time=datetime.now(tz=UTC) - timedelta(days=30))
    assert refresh(anon, str(token)).status_code == 401


def _with_payload(token: str, **changes: object) -> str:
    """The token with its payload changed and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_tampered_access_token_is_401(user, make_user, login):  # type: ignore[no-untyped-def]
    admin = make_user("root")
    forged = _with_payload(login()["access"], user_id=str(admin.pk))
    response = bearer(forged).get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_tampered_refresh_token_is_401(anon, user, login):  # type: ignore[no-untyped-def]
    forged = _with_payload(login()["refresh"], exp=int(datetime.now(tz=UTC).timestamp()) + 10**8)
    assert refresh(anon, forged).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer not-a-jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "Token abc"]
)
def test_a_bad_token_is_a_clear_401(client, header):  # type: ignore[no-untyped-def]
    response = client.get("/api/v2/collections", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_no_token_is_401(client):  # type: ignore[no-untyped-def]
    assert client.get("/api/v2/collections").status_code == 401


def test_unknown_api_path_is_a_json_404(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_me_describes_the_user_and_the_jwt(api):  # type: ignore[no-untyped-def]
    body = api.get("/api/auth/me").json()
    assert body["username"] == "alice" and body["is_staff"] is False
    assert body["auth"] == "jwt" and body["scopes"] == ["read", "search", "write"]


# Password change


def change_password(client, old: str = PASSWORD, new: str = "a much better passphrase"):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/password", {"old_password": old, "new_password": new}, format="json")


def test_password_change_revokes_every_session_and_returns_a_fresh_one(anon, user, login):  # type: ignore[no-untyped-def]
    laptop, phone = login(), login()
    response = change_password(bearer(laptop["access"]))
    assert response.status_code == 200, response.json()
    fresh = response.json()
    for session in (laptop, phone):
        assert refresh(anon, session["refresh"]).status_code == 401
        assert bearer(session["access"]).get("/api/auth/me").status_code == 401
    assert bearer(fresh["access"]).get("/api/auth/me").status_code == 200
    assert refresh(anon, fresh["refresh"]).status_code == 200
    assert login(password="a much better passphrase")
    assert (
        anon.post("/api/auth/login", {"username": "alice", "password": PASSWORD}, format="json").status_code
        == 401
    )


def test_password_change_needs_the_current_password(api, user):  # type: ignore[no-untyped-def]
    response = change_password(api, old="wrong")
    assert response.status_code == 400
    assert "old_password" in response.json()["error"]["details"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_applies_the_password_rules(api, user):  # type: ignore[no-untyped-def]
    response = change_password(api, new="123")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["new_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# API keys


def create_key(client, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/keys", {"name": "backup script", "scopes": ["read"], **body}, format="json")


def test_a_created_key_is_shown_once_and_stored_only_as_a_digest(api):  # type: ignore[no-untyped-def]
    response = create_key(api, scopes=["read", "search"])
    assert response.status_code == 201, response.json()
    created = response.json()
    key = created["key"]
    assert key.startswith(created["prefix"] + "_") and created["scopes"] == ["read", "search"]
    assert created["active"] is True and created["expires_at"] is None

    listed = api.get("/api/auth/keys").json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0] and listed["results"][0]["prefix"] == created["prefix"]
    assert "key" not in api.get(f"/api/auth/keys/{created['id']}").json()

    row = ApiKey.objects.get(pk=created["id"])
    assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = " ".join(str(value) for value in ApiKey.objects.filter(pk=row.pk).values().first().values())
    assert key not in stored and key.split("_", 2)[2] not in stored


def test_the_key_authenticates_as_its_owner(api):  # type: ignore[no-untyped-def]
    key = create_key(api).json()["key"]
    me = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert me.status_code == 200
    assert (
        me.json()["username"] == "alice"
        and me.json()["auth"] == "api_key"
        and me.json()["scopes"] == ["read"]
    )


def test_a_revoked_key_is_refused_and_listed_as_revoked(api):  # type: ignore[no-untyped-def]
    created = create_key(api).json()
    assert api.delete(f"/api/auth/keys/{created['id']}").status_code == 204
    response = APIClient().get("/api/auth/me", HTTP_X_API_KEY=created["key"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_revoked"
    listed = api.get("/api/auth/keys").json()["results"][0]
    assert listed["active"] is False and listed["revoked_at"]


def test_an_expired_key_is_refused(api):  # type: ignore[no-untyped-def]
    soon = timezone.now() + timedelta(hours=1)
    created = create_key(api, expires_at=soon.isoformat()).json()
    assert APIClient().get("/api/auth/me", HTTP_X_API_KEY=created["key"]).status_code == 200
    ApiKey.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = APIClient().get("/api/auth/me", HTTP_X_API_KEY=created["key"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_expired"
    assert api.get(f"/api/auth/keys/{created['id']}").json()["active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["admin"]}, "scopes"),
        ({"name": ""}, "name"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_key_requests_are_400_naming_the_field(api, body, field):  # type: ignore[no-untyped-def]
    response = create_key(api, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not ApiKey.objects.exists()


def test_someone_elses_key_is_a_404(api, client_for, make_user):  # type: ignore[no-untyped-def]
    created = create_key(client_for(make_user("bob"))).json()
    assert api.get(f"/api/auth/keys/{created['id']}").status_code == 404
    assert api.delete(f"/api/auth/keys/{created['id']}").status_code == 404
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/auth/keys", None),
        ("post", "/api/auth/keys", {"name": "child", "scopes": ["read", "search", "write"]}),
        ("post", "/api/auth/password", {"old_password": PASSWORD, "new_password": "another fine passphrase"}),
    ],
)
def test_an_api_key_cannot_manage_keys_or_the_password(key_client, method, path, body):  # type: ignore[no-untyped-def]
    client = key_client(["read", "search", "write"])
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "login_required"
    assert ApiKey.objects.count() == 1
