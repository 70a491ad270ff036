"""Rate limits: 429 with Retry-After once a scope's rate is spent, counted per IP, user or key."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):  # type: ignore[no-untyped-def]
    """Set some rates for this test; the others stay as configured."""

    def set_rates(**changes: str | None) -> None:
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **changes}

    return set_rates


def assert_throttled(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60


def log_in(client: APIClient, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", {"username": "alice", "password": password}, format="json")


def test_login_attempts_are_limited_per_ip_address(user, rates):  # type: ignore[no-untyped-def]
    rates(login="3/min")
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    assert [log_in(client, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    # The right password does not get past the limit either: that is what stops guessing.
    assert_throttled(log_in(client))
    # Another address still may.
    assert log_in(APIClient(REMOTE_ADDR="203.0.113.8")).status_code == 200


def test_x_forwarded_for_is_ignored_without_trusted_proxies(user, rates):  # type: ignore[no-untyped-def]
    rates(login="1/min")
    assert (
        log_in(APIClient(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")).status_code == 200
    )
    assert_throttled(log_in(APIClient(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.2")))


def test_registrations_are_limited_per_ip_address(rates, settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = True
    rates(register="1/hour")
    client = APIClient()
    first = client.post("/api/auth/register", {"username": "one", "password": PASSWORD}, format="json")
    assert first.status_code == 201
    response = client.post("/api/auth/register", {"username": "two", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 3500


@pytest.fixture
def search_body(api, models) -> dict[str, object]:  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Notes"}, format="json").json()
    return {"query": "roses", "collections": [collection["id"]], "k": 1}


def test_searches_are_limited_per_user(api, client_for, make_user, search_body, rates, settings):  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "onnx"
    rates(search="2/min")
    assert [api.post("/api/v2/search", search_body, format="json").status_code for _ in range(2)] == [
        200,
        200,
    ]
    assert_throttled(api.post("/api/v2/search", search_body, format="json"))
    # Reads are not searches; another user has a budget of their own.
    assert api.get("/api/v2/collections").status_code == 200
    bobs = client_for(make_user("bob")).post("/api/v2/search", search_body, format="json")
    assert bobs.status_code == 404  # Alice's collection: not throttled, just not his


def test_searches_are_limited_per_api_key(key_client, search_body, rates, settings):  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "onnx"
    rates(search="1/min")
    first = key_client(["search"])
    assert first.post("/api/v2/search", search_body, format="json").status_code == 200
    assert_throttled(first.post("/api/v2/search", search_body, format="json"))
    assert key_client(["search"]).post("/api/v2/search", search_body, format="json").status_code == 200


def test_writes_are_limited_per_user_and_reads_are_not(api, rates):  # type: ignore[no-untyped-def]
    rates(write="2/min")
    for _ in range(2):
        assert api.post("/api/v2/collections", {"name": ""}, format="json").status_code == 400
    assert_throttled(api.post("/api/v2/collections", {"name": ""}, format="json"))
    assert_throttled(api.delete("/api/auth/keys/00000000-0000-0000-0000-000000000000"))
    assert api.get("/api/v2/collections").status_code == 200


def test_every_request_of_a_user_counts_against_the_default_rate(api, rates):  # type: ignore[no-untyped-def]
    rates(user="3/min")
    assert [api.get("/api/auth/me").status_code for _ in range(3)] == [200, 200, 200]
    assert_throttled(api.get("/api/v2/collections"))


def test_requests_without_credentials_are_limited_per_ip_address(rates):  # type: ignore[no-untyped-def]
    rates(anon="2/min")
    client = APIClient()
    body = {"refresh": "not-a-token"}
    assert [client.post("/api/auth/refresh", body, format="json").status_code for _ in range(2)] == [401, 401]
    assert_throttled(client.post("/api/auth/refresh", body, format="json"))


def test_a_rate_of_none_switches_a_limit_off(user, rates):  # type: ignore[no-untyped-def]
    rates(login=None)
    client = APIClient()
    assert all(log_in(client, "wrong").status_code == 401 for _ in range(15))


def test_with_redis_unreachable_logins_are_refused_with_a_clear_503_and_reads_go_on(  # type: ignore[no-untyped-def]
    api, user, settings
):
    from semantik.stack.ports import find_free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{find_free_port()}/0",
        }
    }
    response = log_in(APIClient())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "Redis" in response.json()["error"]["message"]
    # Password guessing stays limited; reading does not stop because rate limits cannot be counted.
    assert api.get("/api/auth/me").status_code == 200


def test_the_admin_login_form_counts_against_the_same_login_limit(user, rates):  # type: ignore[no-untyped-def]
    from django.test import Client

    rates(login="2/min")
    browser = Client(REMOTE_ADDR="203.0.113.9")
    form = {"username": "alice", "password": "wrong", "next": "/admin/"}
    assert [browser.post("/admin/login/", form).status_code for _ in range(2)] == [200, 200]  # refused
    # The right password does not get past the limit; the form itself still shows.
    response = browser.post("/admin/login/", {**form, "password": PASSWORD})
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    assert "Too many log-in attempts" in response.content.decode()
    assert browser.get("/admin/login/").status_code == 200
    # One limit for both forms: the API's login from that address is spent too.
    assert_throttled(log_in(APIClient(REMOTE_ADDR="203.0.113.9")))
    assert Client(REMOTE_ADDR="203.0.113.10").post("/admin/login/", form).status_code == 200
