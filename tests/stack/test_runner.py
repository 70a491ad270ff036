"""`semantik run`: the embedded stack starts, serves, stops with no orphans, and keeps its data."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from semantik.stack.ports import find_free_port

ADMIN_PASSWORD = "runner-test-password-1"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root, PostgreSQL runs as another account that must be able to
    # reach its data, and pytest makes its own temporary root private.
    path = Path(tempfile.mkdtemp(prefix="semantik-run-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start(data_dir: Path, port: int, model_repository: Path) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "TRITON_URL", "QDRANT_PATH"}
    }
    env.update(
        DATA_DIR=str(data_dir),
        DOCUMENT_PATH=str(data_dir / "documents"),
        MODEL_REPOSITORY=str(model_repository),
        SEMANTIK_ADMIN_USERNAME="admin",
        SEMANTIK_ADMIN_PASSWORD=ADMIN_PASSWORD,
        LOG_LEVEL="INFO",
    )
    log = (data_dir / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "semantik.cli", "run", "--port", str(port)], env=env, stdout=log, stderr=log
    )


def wait_ready(process: subprocess.Popen[bytes], url: str, data_dir: Path, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (data_dir / "run.log").read_text()[-4000:]
            pytest.fail(f"semantik run exited with {process.returncode}:\n{log}")
        try:
            if httpx.get(f"{url}/api/health/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    pytest.fail(
        f"semantik run was not ready in {deadline_s} s:\n{(data_dir / 'run.log').read_text()[-4000:]}"
    )


def stop(process: subprocess.Popen[bytes], signum: int) -> list[psutil.Process]:
    """Send the signal; return whatever the runner had started that is still alive afterwards."""
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the embedded services should be child processes"
    process.send_signal(signum)
    process.wait(timeout=60)
    gone, alive = psutil.wait_procs(children, timeout=10)
    return alive


def login(url: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


def test_run_serves_stops_cleanly_on_ctrl_c_and_sigterm_and_keeps_data(data_dir, model_repository):  # type: ignore[no-untyped-def]
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"

    first = start(data_dir, port, model_repository)
    wait_ready(first, url, data_dir)
    assert httpx.get(f"{url}/").status_code == 200
    created = httpx.post(f"{url}/api/v2/collections", json={"name": "Survivor"}, headers=login(url))
    assert created.status_code == 201, created.text
    assert stop(first, signal.SIGINT) == []
    assert first.returncode == 0

    second = start(data_dir, port, model_repository)
    wait_ready(second, url, data_dir)
    names = [c["name"] for c in httpx.get(f"{url}/api/v2/collections", headers=login(url)).json()["results"]]
    assert names == ["Survivor"]
    assert stop(second, signal.SIGTERM) == []
    assert second.returncode == 0


def test_killing_the_process_mid_operation_then_restarting_finishes_it_exactly(data_dir, model_repository):  # type: ignore[no-untyped-def]
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"
    folder = data_dir / "documents" / "many"
    folder.mkdir(parents=True)
    for i in range(60):
        (folder / f"{i:03}.txt").write_text(
            f"Note {i}. " + "The quick brown fox jumps over the lazy dog. " * 20
        )

    first = start(data_dir, port, model_repository)
    wait_ready(first, url, data_dir)
    headers = login(url)
    collection = httpx.post(f"{url}/api/v2/collections", json={"name": "Crash"}, headers=headers).json()
    added = httpx.post(
        f"{url}/api/v2/collections/{collection['id']}/sources", json={"path": str(folder)}, headers=headers
    )
    operation_url = f"{url}/api/v2/operations/{added.json()['operation_id']}"
    deadline = time.monotonic() + 120
    while httpx.get(operation_url, headers=headers).json()["files_processed"] < 5:
        assert time.monotonic() < deadline, "indexing did not start"
        time.sleep(0.2)
    servers = psutil.Process(first.pid).children(recursive=True)
    first.kill()  # no shutdown at all: what a power cut or the OOM killer does
    first.wait(timeout=30)
    # Triton and Valkey go with it (PostgreSQL is stopped by the next start, which finds it).
    _, alive = psutil.wait_procs(servers, timeout=30)
    assert not [p for p in alive if p.name() != "postgres"], [(p.name(), p.cmdline()[:4]) for p in alive]

    second = start(data_dir, port, model_repository)
    try:
        wait_ready(second, url, data_dir)
        headers = login(url)
        deadline = time.monotonic() + 120
        while (state := httpx.get(operation_url, headers=headers).json())["status"] not in {
            "completed",
            "failed",
        }:
            log = (data_dir / "run.log").read_text()[-6000:]
            assert time.monotonic() < deadline, f"the resumed operation did not finish: {state}\n{log}"
            time.sleep(0.5)
        assert state["status"] == "completed", state
        detail = httpx.get(f"{url}/api/v2/collections/{collection['id']}", headers=headers).json()
        assert detail["document_count"] == 60
        # Exact: Qdrant holds precisely the chunks of the documents, no duplicates from the retry.
        assert detail["vector_count"] == detail["chunk_count"] > 60
    finally:
        assert stop(second, signal.SIGTERM) == []


@pytest.mark.django_db(transaction=True)
def test_preparing_waits_while_another_process_migrates() -> None:
    """Web replicas start together: one migrates under PostgreSQL's advisory lock, the others wait."""
    import threading

    from django.db import connection

    from semantik.stack.runner import MIGRATION_LOCK, _prepare_django

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        failures: list[BaseException] = []

        def prepare() -> None:
            try:
                _prepare_django()
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                failures.append(exc)

        other = threading.Thread(target=prepare)
        other.start()
        other.join(timeout=2)
        waited = other.is_alive()
        cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
    other.join(timeout=120)
    assert waited, "it migrated while another process held the migration lock"
    assert not other.is_alive() and not failures, failures


def test_serve_migrates_then_serves_and_logs_json_lines(tmp_path: Path, model_repository: Path) -> None:
    """`semantik serve` (the web container): a new database is migrated before the port answers; every
    log line is JSON, and a request's lines carry its X-Request-ID."""
    import json
    import uuid

    import psycopg
    from psycopg import sql

    base = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])
    name = f"semantik_serve_{uuid.uuid4().hex[:8]}"
    admin_params = {**base, "dbname": "postgres"}
    with psycopg.connect(**admin_params, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    port = find_free_port()
    env = {
        **os.environ,
        # The session's server, a database of our own: the URL with its last segment replaced.
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}",
        "DATA_DIR": str(tmp_path / "data"),
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "MODEL_REPOSITORY": str(model_repository),
        "INFERENCE_BACKEND": "onnx",
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "SEMANTIK_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "semantik.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[0][-4000:]
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/health/livez", headers={"X-Request-ID": "probe-1"}
                )
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "semantik serve did not answer"
                time.sleep(0.3)
        assert response.status_code == 200 and response.headers["X-Request-ID"] == "probe-1"
        # Already migrated and the administrator made when the port first answered.
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 20  # type: ignore[index]
            assert conn.execute("SELECT is_superuser FROM auth_user WHERE username = 'admin'").fetchone() == (
                True,
            )
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            headers={"X-Request-ID": "login-1"},
        )
        assert login.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
        with psycopg.connect(**admin_params, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    # uvicorn shuts down cleanly, then ends by the signal it caught, as a service manager expects.
    assert server.returncode in (0, -signal.SIGTERM), output[-4000:]
    assert "Finished server process" in output
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(
        e["logger"] == "semantik.request" and e.get("request_id") == "login-1" and e["status"] == 200
        for e in entries
    )
    assert any(e["logger"].startswith("uvicorn") for e in entries), (
        "uvicorn logs through the same JSON handler"
    )
