"""Fixtures for account tests: logging in through the API, and API keys made by the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from rest_framework.test import APIClient

from semantik.accounts.services import api_key_create

PASSWORD = "correct horse battery staple"


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def login(anon: APIClient) -> Callable[..., dict[str, Any]]:
    """Log in through POST /api/auth/login; returns {access, refresh}."""

    def log_in(username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        response = anon.post("/api/auth/login", {"username": username, "password": password}, format="json")
        assert response.status_code == 200, response.json()
        return dict(response.json())

    return log_in


@pytest.fixture
def key_client(user) -> Callable[..., APIClient]:  # type: ignore[no-untyped-def]
    """A client authenticated by a fresh API key of `user` with the given scopes."""

    def make(scopes: Iterable[str], header: str = "authorization") -> APIClient:
        created = api_key_create(user=user, name="script", scopes=scopes)
        client = APIClient()
        if header == "authorization":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.key}")
        else:
            client.credentials(HTTP_X_API_KEY=created.key)
        return client

    return make
