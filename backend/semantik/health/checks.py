"""One check per dependency; each answers quickly, with the reason when it fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypedDict

import redis
from django.conf import settings
from django.db import connection

from semantik.catalog.selectors import served_model
from semantik.inference.runtime import get_embedder
from semantik.vectors import get_vector_store

CHECK_TIMEOUT_S = 3.0


class CheckResult(TypedDict):
    ok: bool
    latency_ms: float
    error: str


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def check_qdrant() -> None:
    get_vector_store().ping()


def check_triton() -> None:
    # The variant new collections get: the default model at the default precision.
    get_embedder(served_model(settings.DEFAULT_EMBEDDING_MODEL).name).ping()


CHECKS: dict[str, Callable[[], None]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "qdrant": check_qdrant,
    "triton": check_triton,
}


def _timed(check: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
        error = ""
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure as data
        error = f"{exc.__class__.__name__}: {exc}"
    return {"ok": not error, "latency_ms": round((time.perf_counter() - started) * 1000, 1), "error": error}


def _in_thread(check: Callable[[], None]) -> CheckResult:
    # Django connections are per thread: the PostgreSQL check must close the one it opened.
    try:
        return _timed(check)
    finally:
        connection.close()


def run_checks() -> dict[str, CheckResult]:
    """All checks at once, each bounded by a deadline so a hung dependency cannot hang readyz."""
    results: dict[str, CheckResult] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(_in_thread, check) for name, check in CHECKS.items()}
        deadline = time.monotonic() + CHECK_TIMEOUT_S
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[name] = {"ok": False, "latency_ms": CHECK_TIMEOUT_S * 1000, "error": "timed out"}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results
