"""Browser end-to-end fixtures: `semantik run` as `make run` starts it, and headless Chromium.

The stack is the real one (embedded PostgreSQL and Valkey, the tritonserver binary, Qdrant in the
process, the Celery worker in a thread) serving the built UI on a free port, with a temporary data
directory and a document root of its own. The browser is Debian's Chromium driven by Playwright.
Where Chromium, Playwright or the built UI cannot be had, the tests skip and say what is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from semantik.stack.ports import find_free_port

REPOSITORY = Path(__file__).resolve().parents[3]
UI_INDEX = REPOSITORY / "backend" / "semantik" / "web" / "static" / "ui" / "index.html"
ARTIFACTS = REPOSITORY / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
ADMIN = ("admin", "e2e-admin-password-1")
# Chromium flags measured here (../shared/notes/stack-facts.md): no sandbox as root, no GPU, and
# nothing that reaches the network on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """CHROMIUM (a path) when set, else Debian's /usr/bin/chromium or whatever is on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass(frozen=True)
class Stack:
    url: str
    data_dir: Path
    documents: Path


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium: apt-get install -y chromium or set CHROMIUM to its path (make test does it as root)"
        )
    if not UI_INDEX.is_file():
        pytest.skip(f"the UI is not built ({UI_INDEX} is missing): make frontend-build (Node.js 20.19+)")
    return path


# Module-scoped: Playwright's sync API keeps an asyncio loop running in the main thread while it is
# open, which would break any later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no playwright package: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


def _start(data_dir: Path, port: int, model_repository: Path) -> subprocess.Popen[bytes]:
    # The test session's own services and settings stay out: the stack starts its embedded twins
    # and reads the defaults `make run` reads (DEBUG on, so registration is open).
    session_only = {
        "DATABASE_URL",
        "REDIS_URL",
        "TRITON_URL",
        "TRITON_METRICS_URL",
        "QDRANT_PATH",
        "QDRANT_URL",
        "INSTANCE_NAME",
        "SECRET_KEY",
        "DEBUG",
        "INFERENCE_BACKEND",
    }
    env = {k: v for k, v in os.environ.items() if k not in session_only}
    env.update(
        DATA_DIR=str(data_dir),
        DOCUMENT_PATH=str(data_dir / "documents"),
        MODEL_REPOSITORY=str(model_repository),
        SEMANTIK_ADMIN_USERNAME=ADMIN[0],
        SEMANTIK_ADMIN_PASSWORD=ADMIN[1],
        HF_HUB_OFFLINE="1",
        LOG_LEVEL="INFO",
    )
    log = (data_dir / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "semantik.cli", "run", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, deadline_s: float = 180) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"semantik run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/api/health/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"semantik run was not ready in {deadline_s} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def stack(chromium: str, model_repository: Path) -> Iterator[Stack]:
    """`semantik run` on a free port with a data directory and document root of its own."""
    from semantik.inference.server import TritonBinaryNotFound, triton_install

    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    # Not under pytest's tmp_path: as root, PostgreSQL runs as another account that must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix="semantik-e2e-"))
    data_dir.chmod(0o755)
    documents = data_dir / "documents"
    documents.mkdir()
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    process = _start(data_dir, port, model_repository)
    try:
        _wait_ready(process, url, data_dir / "run.log")
        yield Stack(url=url, data_dir=data_dir, documents=documents)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # The server's log outlives its data directory, for reading after a failed run.
        with contextlib.suppress(OSError):
            shutil.copyfile(data_dir / "run.log", ARTIFACTS / "semantik-run.log")
        shutil.rmtree(data_dir, ignore_errors=True)
