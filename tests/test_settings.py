"""Settings read from the environment: the ones whose names or values have more than one spelling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1] / "backend"


def setting(name: str, tmp_path: Path, **environment: str) -> str:
    """The value `semantik.settings` gives `name` in a fresh interpreter with this environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BATCH_SIZE", "INGEST_BATCH_SIZE", "DEFAULT_QUANTIZATION")
    }
    env.update(PYTHONPATH=str(BACKEND), DATA_DIR=str(tmp_path), **environment)
    result = subprocess.run(
        [sys.executable, "-c", f"import semantik.settings as s; print(s.{name})"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode:
        raise AssertionError(result.stderr.strip().splitlines()[-1])
    return result.stdout.strip()


def test_batch_size_bounds_ingestion_and_reads_its_old_name_as_a_fallback(tmp_path: Path):
    assert setting("BATCH_SIZE", tmp_path) == "64"
    assert setting("BATCH_SIZE", tmp_path, INGEST_BATCH_SIZE="7") == "7"
    assert setting("BATCH_SIZE", tmp_path, BATCH_SIZE="5", INGEST_BATCH_SIZE="7") == "5"
    with pytest.raises(AssertionError, match="BATCH_SIZE=0 is below its minimum of 1"):
        setting("BATCH_SIZE", tmp_path, BATCH_SIZE="0")


def test_default_quantization_is_a_precision_collections_know(tmp_path: Path):
    assert setting("DEFAULT_QUANTIZATION", tmp_path) == "float32"
    assert setting("DEFAULT_QUANTIZATION", tmp_path, DEFAULT_QUANTIZATION="INT8") == "int8"
    assert setting("DEFAULT_QUANTIZATION", tmp_path, DEFAULT_QUANTIZATION="fp16") == "float16"
    with pytest.raises(AssertionError, match="'float64' is not one of float32, float16, int8"):
        setting("DEFAULT_QUANTIZATION", tmp_path, DEFAULT_QUANTIZATION="float64")


_BACKEND_PIDS = """
import django
django.setup()
from django.db import connection
pids = []
for _ in range(8):  # as eight requests do: connect, query, close
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
    connection.close()
print(len(set(pids)))
"""


@pytest.mark.django_db
def test_with_a_database_pool_requests_reuse_connections_instead_of_connecting_each_time(
    tmp_path: Path, settings
):  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"

    def backends(**environment: str) -> int:
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_POOL_SIZE", "DATABASE_CONN_MAX_AGE")
        }
        env.update(
            PYTHONPATH=str(BACKEND),
            DATA_DIR=str(tmp_path),
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="semantik.settings",
        )
        env.update(environment)
        result = subprocess.run(
            [sys.executable, "-c", _BACKEND_PIDS], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1])

    assert backends() == 8  # a new PostgreSQL backend for every request
    assert backends(DATABASE_POOL_SIZE="4") <= 4  # never more than the pool holds
