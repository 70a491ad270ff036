"""The API key format, `smk_<prefix>_<secret>`: generated, split and digested here only."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

KEY_MARK = "smk_"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = 8
# 32 random bytes: a key cannot be guessed, so a fast digest at rest is as safe as a slow one.
_SECRET_BYTES = 32


@dataclass(frozen=True)
class NewKey:
    key: str  # the whole key, shown to its owner once
    prefix: str  # smk_<prefix>: public, stored in clear to find the row and label the key
    digest: str  # SHA-256 of the whole key, the only form of the secret that is stored


def generate_key() -> NewKey:
    prefix = KEY_MARK + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
    key = f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return NewKey(key=key, prefix=prefix, digest=key_digest(key))


def key_prefix(key: str) -> str | None:
    """The prefix of something shaped like a key, or None when it cannot be one."""
    size = len(KEY_MARK) + _PREFIX_LENGTH
    if not key.startswith(KEY_MARK) or len(key) <= size + 1 or key[size] != "_":
        return None
    return key[:size]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, digest: str) -> bool:
    """Constant-time comparison, so response timing says nothing about how much of a key was right."""
    return hmac.compare_digest(key_digest(key), digest)
