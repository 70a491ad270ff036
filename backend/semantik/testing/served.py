"""`semantik run` as a child process, for the scripts that drive the real server (benchmarks, evaluation)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from semantik.stack.ports import find_free_port

# Settings of the caller's environment that would point the child away from its embedded stack.
_OUTSIDE = {"DATABASE_URL", "REDIS_URL", "QDRANT_URL", "TRITON_URL"}


@dataclass(frozen=True)
class Served:
    url: str
    pid: int  # of `semantik run`, whose CPU a benchmark may read


@contextlib.contextmanager
def semantik_run(
    data_dir: Path,
    documents: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    ready_timeout_s: float = 240,
    stop_timeout_s: float = 60,
    cwd: Path | None = None,
) -> Iterator[Served]:
    """Start `semantik run` on a free loopback port with its data in `data_dir`; its URL once ready.

    The embedded stack throughout, except what `env` sets (a TRITON_URL, throttles). Output goes
    to `log_path`, which an error names. Stopped on the way out: SIGTERM, then SIGKILL if it has
    not exited within `stop_timeout_s`.
    """
    port = find_free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in _OUTSIDE}
    child_env.update(
        DATA_DIR=str(data_dir), DOCUMENT_PATH=str(documents), HF_HUB_OFFLINE="1", LOG_LEVEL="WARNING"
    )
    child_env.update(env or {})
    server = subprocess.Popen(
        [sys.executable, "-m", "semantik.cli", "run", "--port", str(port)],
        env=child_env,
        cwd=cwd,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"semantik run exited with status {server.returncode}: see {log_path}")
            try:
                if httpx.get(f"{url}/api/health/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"semantik run not ready within {ready_timeout_s:.0f} s: see {log_path}")
            time.sleep(0.5)
        yield Served(url, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
