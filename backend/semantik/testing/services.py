"""Pytest plugin (`-p semantik.testing.services`): real PostgreSQL and Redis for the test session.

It runs before Django reads its settings. The machine's own servers are used when they listen
(CI and developer machines with them installed); otherwise the embedded twins are started, so
the suite also passes on a machine with nothing but Python.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from semantik.stack.ports import port_open

# Tests get their own Redis database, away from a developer's broker queue and cache, and each
# session its own instance name, so concurrent runs never take each other's tasks or events.
TEST_REDIS_DB = 15

_SESSION = uuid.uuid4().hex[:12]
_started: list[Any] = []
_workdir: Path | None = None


def _database_url(workdir: Path) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if port_open("127.0.0.1", 5432, timeout=0.5):
        # pytest-django creates test_<name>: a name of its own per session keeps concurrent runs
        # on one server from dropping each other's test database.
        return f"postgresql://postgres@127.0.0.1:5432/semantik_{_SESSION}"
    from semantik.stack.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(workdir / "postgres")
    url = server.start()
    _started.append(server)
    return url


def _redis_url(workdir: Path) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if port_open("127.0.0.1", 6379, timeout=0.5):
        return f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
    from semantik.stack.valkey import EmbeddedValkey

    server = EmbeddedValkey(workdir / "valkey")
    url = server.start()
    _started.append(server)
    return url


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    global _workdir
    _workdir = Path(tempfile.mkdtemp(prefix="semantik-tests-"))
    os.environ["DATABASE_URL"] = _database_url(_workdir)
    os.environ["REDIS_URL"] = _redis_url(_workdir)
    os.environ["DATA_DIR"] = str(_workdir / "data")
    os.environ["DOCUMENT_PATH"] = str(_workdir / "documents")
    os.environ["INSTANCE_NAME"] = f"semantik-test-{_SESSION}"
    os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-that-signs-nothing-real-0123456789")
    os.environ.setdefault("DEBUG", "false")
    (_workdir / "documents").mkdir()
    # collectstatic would make it; WhiteNoise warns on every request while it is missing.
    (_workdir / "data" / "static").mkdir(parents=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _started:
        _started.pop().stop()
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
