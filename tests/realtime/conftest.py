"""A real Celery worker process for the live-updates tests, sharing this test session's services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from semantik.vectors import reset_vector_store

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def _database_url() -> str:
    """This session's test database (pytest-django's test_<name>), as the worker must reach it."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    host = db["HOST"] or ""
    if host.startswith("/"):  # a socket directory (embedded PostgreSQL)
        return f"postgresql://{credentials}@/{db['NAME']}?host={quote(host)}&port={db['PORT']}"
    return f"postgresql://{credentials}@{host}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker_process(
    transactional_db, settings, models: Path, documents_root: Path, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:  # type: ignore[no-untyped-def]
    """Starts `celery -A semantik worker` as a separate process on this session's PostgreSQL, Redis
    broker, channel layer and instance name, embedding with ONNX Runtime.

    It owns the embedded Qdrant at settings.QDRANT_PATH from its start: this process closes its
    own handle first and must not open Qdrant again (one process per data directory).
    """
    started: list[subprocess.Popen[bytes]] = []
    log_path = tmp_path / "worker.log"

    def start(concurrency: int = 1) -> subprocess.Popen[bytes]:
        reset_vector_store()
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "INSTANCE_NAME": django_settings.INSTANCE_NAME,
            "QDRANT_PATH": str(settings.QDRANT_PATH),
            "DOCUMENT_PATH": str(documents_root),
            "MODEL_REPOSITORY": str(models),
            "INFERENCE_BACKEND": "onnx",
            "EXTRACTION_WORKERS": "1",
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BACKEND), os.environ.get("PYTHONPATH")])),
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "semantik",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                    "--hostname",
                    f"test-{os.getpid()}@%h",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its extraction workers
            )
        started.append(process)
        deadline = time.monotonic() + 90
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"The Celery worker did not start:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
