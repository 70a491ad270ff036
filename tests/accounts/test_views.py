"""Log-in and token refresh."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_login_returns_access_and_refresh_tokens(client, user):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/auth/login",
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert set(response.json()) >= {"access", "refresh"}


def test_login_with_a_wrong_password_is_401_with_the_error_shape(client, user):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/auth/login", {"username": "alice", "password": "nope"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refresh_gives_a_new_access_token_that_works(client, user):  # type: ignore[no-untyped-def]
    tokens = client.post(
        "/api/auth/login",
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    ).json()
    refreshed = client.post(
        "/api/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200
    me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


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
