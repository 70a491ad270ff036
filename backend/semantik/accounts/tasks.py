"""Periodic upkeep of accounts: every login and refresh records a token, and they expire."""

from __future__ import annotations

from celery import shared_task

from semantik.accounts.services import refresh_tokens_flush_expired


@shared_task(name="semantik.flush_expired_refresh_tokens")
def flush_expired_refresh_tokens() -> int:
    return refresh_tokens_flush_expired()
