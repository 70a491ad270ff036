"""Tampered credentials: every forged, altered, expired or malformed JWT or API key is a 401 in the one
error shape, on every kind of endpoint, never a 500 and never access."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from semantik.accounts.services import api_key_create

pytestmark = pytest.mark.django_db

# One endpoint of each kind: who am I, a list, a search, a write.
ENDPOINTS = [
    ("get", "/api/auth/me", None),
    ("get", "/api/v2/collections", None),
    ("post", "/api/v2/search", {"query": "wick", "collections": ["00000000-0000-0000-0000-000000000000"]}),
    ("post", "/api/v2/collections", {"name": "Forged"}),
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _sign(claims: dict[str, object], key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def _alg_none(token: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{token.split('.')[1]}."


def _payload_swapped(token: str, **changes: object) -> str:
    """The token with its claims changed and its old signature kept."""
    header, _, signature = token.split(".")
    payload = _b64(json.dumps({**_claims(token), **changes}).encode())
    return f"{header}.{payload}.{signature}"


def _expired(token: str) -> str:
    claims = _claims(token)
    return _sign({**claims, "exp": int(claims["iat"]) - 60})  # type: ignore[call-overload]


# Each turns a valid access token (of the user) into a forged or broken one.
FORGERIES: dict[str, Callable[[str], str]] = {
    "alg-none": _alg_none,
    "alg-none-no-dot": lambda t: _alg_none(t).rstrip("."),
    "wrong-signing-key": lambda t: _sign(_claims(t), key="not-the-key-" + "x" * 40),
    "other-algorithm-same-key": lambda t: _sign(_claims(t), algorithm="HS512"),
    "signature-of-another-token": lambda t: ".".join(t.split(".")[:2] + [_sign({"a": 1}).split(".")[2]]),
    "signature-stripped": lambda t: ".".join(t.split(".")[:2]) + ".",
    "user-id-altered-signature-kept": lambda t: _payload_swapped(t, user_id="999999"),
    "expiry-extended-signature-kept": lambda t: _payload_swapped(t, exp=4_000_000_000),
    "expired": _expired,
    "signed-for-a-user-who-does-not-exist": lambda t: _sign({**_claims(t), "user_id": "999999"}),
    "no-user-id-claim": lambda t: _sign({k: v for k, v in _claims(t).items() if k != "user_id"}),
    "revoke-claim-altered": lambda t: _sign(
        {**_claims(t), settings.SIMPLE_JWT.get("REVOKE_TOKEN_CLAIM", "hash_password"): "0" * 32}
    ),
    "truncated": lambda t: t[: len(t) // 2],
    "not-base64": lambda t: "%%%." + t.split(".")[1] + ".%%%",
    "header-is-not-json": lambda t: _b64(b"{not json") + "." + ".".join(t.split(".")[1:]),
    "payload-is-a-list": lambda t: _sign({}).split(".")[0] + "." + _b64(b"[1,2]") + ".sig",
    "empty": lambda t: "",
    "huge": lambda t: "A" * 20_000,
}


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _assert_refused(response, label: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, (label, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] in {
        "not_authenticated",
        "token_not_valid",
        "authentication_failed",
        "invalid_api_key",
        "user_not_found",
    }, (label, error)
    assert error["message"], label


# PyJWT warns that the key is short for HS512: that token is forged on purpose.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
def test_a_forged_or_broken_jwt_is_401_everywhere(user, forgery: str):  # type: ignore[no-untyped-def]
    token = FORGERIES[forgery](str(AccessToken.for_user(user)))
    for method, path, body in ENDPOINTS:
        response = getattr(APIClient(), method)(path, body, format="json", **_bearer(token))
        _assert_refused(response, f"{forgery} {method} {path}")


def test_a_refresh_token_is_no_access_token(user):  # type: ignore[no-untyped-def]
    refresh = RefreshToken.for_user(user)
    for method, path, body in ENDPOINTS:
        _assert_refused(
            getattr(APIClient(), method)(path, body, format="json", **_bearer(str(refresh))), path
        )
    # And the other way round: an access token does not refresh.
    response = APIClient().post("/api/auth/refresh", {"refresh": str(refresh.access_token)}, format="json")
    assert response.status_code == 401


def test_the_untampered_token_works_so_the_refusals_above_are_the_tampering(user):  # type: ignore[no-untyped-def]
    response = APIClient().get("/api/auth/me", **_bearer(str(AccessToken.for_user(user))))
    assert response.status_code == 200


def test_a_token_of_a_user_made_inactive_is_401(user):  # type: ignore[no-untyped-def]
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save()
    _assert_refused(APIClient().get("/api/auth/me", **_bearer(token)), "inactive")


GARBAGE_HEADERS = {
    "scheme-only": "Bearer",
    "two-tokens": "Bearer a b",
    "basic": "Basic " + base64.b64encode(b"alice:correct horse battery staple").decode(),
    "unknown-scheme": "Token abc",
    "latin-1-bytes": "Bearer \xff\xfe\xfd",
    "control-characters": "Bearer \x01\x02\x7f",
    "api-key-scheme-only": "Api-Key",
    "api-key-two-words": "Api-Key smk_abcdefgh_x y",
    "bearer-with-api-key": "Bearer smk_abcdefgh_secret",
    "very-long": "Bearer " + "x" * 60_000,
}


@pytest.mark.parametrize("header", GARBAGE_HEADERS, ids=list(GARBAGE_HEADERS))
def test_a_garbage_authorization_header_is_401_never_500(header: str) -> None:
    for method, path, body in ENDPOINTS:
        response = getattr(APIClient(), method)(
            path, body, format="json", HTTP_AUTHORIZATION=GARBAGE_HEADERS[header]
        )
        if header in {"unknown-scheme", "basic"}:
            # A scheme Semantik does not take is no credential at all: the same 401 as none.
            assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
        else:
            _assert_refused(response, f"{header} {method} {path}")


@pytest.fixture
def key(user) -> str:  # type: ignore[no-untyped-def]
    return api_key_create(user=user, name="script", scopes=["read", "search", "write"]).key


def _tampered_keys(key: str) -> dict[str, str]:
    mark, prefix, secret = key.split("_", 2)
    flipped = prefix[:-1] + ("a" if prefix[-1] != "a" else "b")
    return {
        "prefix-changed-secret-kept": f"{mark}_{flipped}_{secret}",
        "prefix-upper-case": f"{mark}_{prefix.upper()}_{secret}",
        "prefix-shortened": f"{mark}_{prefix[:-1]}_{secret}",
        "prefix-lengthened": f"{mark}_{prefix}x_{secret}",
        "mark-changed": f"smx_{prefix}_{secret}",
        "mark-missing": f"{prefix}_{secret}",
        "secret-missing": f"{mark}_{prefix}_",
        "prefix-only": f"{mark}_{prefix}",
        "secret-truncated": f"{mark}_{prefix}_{secret[:-4]}",
        "secret-extended": f"{mark}_{prefix}_{secret}A",
        "sql-in-prefix": f"{mark}_' OR 1=1 --_{secret}",
        "nul-in-key": f"{mark}_{prefix}_{secret}\x00",
        "non-ascii": f"{mark}_{prefix}_{secret[:-1]}é",
        "huge": f"{mark}_{prefix}_" + "A" * 50_000,
    }


def test_a_tampered_api_key_is_401_in_both_headers_never_500(key: str) -> None:
    for label, forged in _tampered_keys(key).items():
        for headers in ({"HTTP_AUTHORIZATION": f"Api-Key {forged}"}, {"HTTP_X_API_KEY": forged}):
            for method, path, body in ENDPOINTS:
                response = getattr(APIClient(), method)(path, body, format="json", **headers)
                _assert_refused(response, f"{label} {list(headers)} {method} {path}")
    assert APIClient().get("/api/auth/me", HTTP_X_API_KEY=key).status_code == 200
