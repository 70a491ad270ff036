"""Secrets never reach the logs: passwords, JWTs and API keys, through every endpoint that handles them."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from semantik.logs.formatters import ConsoleFormatter, JsonFormatter, redact
from tests.logs.capture import json_lines

PASSWORD = "first-Password-0f-carol"
NEW_PASSWORD = "second-Password-0f-carol"


@pytest.mark.django_db
def test_register_login_refresh_keys_and_password_change_log_no_secret(settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = True
    client = APIClient()
    secrets: list[str] = [PASSWORD, NEW_PASSWORD]
    with json_lines() as lines:
        assert (
            client.post(
                "/api/auth/register", {"username": "carol", "password": PASSWORD}, format="json"
            ).status_code
            == 201
        )
        # A wrong password, a bad token and a bad key are logged as failures: without what was sent.
        client.post("/api/auth/login", {"username": "carol", "password": "wrong-" + PASSWORD}, format="json")
        secrets.append("wrong-" + PASSWORD)
        tokens = client.post(
            "/api/auth/login", {"username": "carol", "password": PASSWORD}, format="json"
        ).json()
        secrets += [tokens["access"], tokens["refresh"]]
        refreshed = client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json").json()
        secrets += [refreshed["access"], refreshed["refresh"]]
        # The used refresh token again: refused, and that refusal is logged.
        client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")

        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")
        created = client.post("/api/auth/keys", {"name": "backup", "scopes": ["read"]}, format="json").json()
        secrets.append(created["key"])
        assert (
            client.post(
                "/api/auth/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
            ).status_code
            == 200
        )
        client.post(
            "/api/auth/password", {"old_password": "not-it-" + PASSWORD, "new_password": "x"}, format="json"
        )
        secrets.append("not-it-" + PASSWORD)

        keyed = APIClient()
        keyed.credentials(HTTP_X_API_KEY=created["key"])
        keyed.get("/api/v2/collections")
        keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {created['key']}x")
        keyed.get("/api/v2/collections")
        tampered = refreshed["access"][:-4] + "AAAA"
        secrets.append(tampered)
        keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")
        keyed.get("/api/auth/me")
        logging.getLogger("tests.logs").info("done")

    written = "\n".join(lines.stream.getvalue().splitlines())
    assert "done" in written and "/api/auth/login" in written  # the requests were logged
    leaked = [secret[:12] + "…" for secret in secrets if secret in written]
    assert leaked == [], f"secrets in the log: {leaked}"
    # Nor any part of a key or token that would let someone rebuild it.
    secret_part = created["key"].rsplit("_", 1)[1]
    assert secret_part not in written
    assert all(token.split(".")[2] not in written for token in (tokens["access"], refreshed["access"]))


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "semantik.test", "levelno": logging.INFO, "levelname": "INFO"})
    record.msg, record.args = message, args
    record.__dict__.update(extra)
    return record


JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
KEY = "smk_ab12cd34_S3cretPartOfTheKey-xyz"


@pytest.mark.parametrize("formatter", [JsonFormatter(), ConsoleFormatter()], ids=["json", "console"])
def test_a_secret_in_a_message_or_traceback_is_redacted_by_the_formatter(
    formatter: logging.Formatter,
) -> None:
    record = _record("Calling with %s and header %s", KEY, f"Authorization: Bearer {JWT}")
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert JWT not in line and "S3cretPartOfTheKey" not in line
    assert "smk_ab12cd34_[redacted]" in line and "Bearer [redacted]" in line


def test_extra_fields_named_like_secrets_are_left_out_of_json_lines() -> None:
    line = JsonFormatter().format(
        _record("login", password="hunter2-hunter2", api_key="k-123-456", refresh_token="r-789", user="carol")
    )
    assert "hunter2" not in line and "k-123-456" not in line and "r-789" not in line
    assert '"user": "carol"' in line


def test_redaction_keeps_ordinary_words() -> None:
    text = "Token bucket refilled for user carol; request_id abc; the key idea is simple."
    assert redact(text) == "Token bucket refilled for user carol; request_id abc; the key idea is simple."
