"""The embedded Valkey: a real Redis-protocol server on loopback whose data outlives a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from semantik.stack.ports import DataDirInUse
from semantik.stack.valkey import EmbeddedValkey

# A run of Semantik that is killed (kill -9) while its Valkey keeps running.
_DOOMED_RUN = """
import sys, time
from pathlib import Path
import redis
from semantik.stack.valkey import EmbeddedValkey
valkey = EmbeddedValkey(Path(sys.argv[1]))
redis.Redis.from_url(valkey.start()).set("queued", "task")
print(valkey.pid, flush=True)
time.sleep(120)
"""


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    server = EmbeddedValkey(tmp_path / "valkey")
    yield server
    server.stop()


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_start_returns_a_redis_url_on_loopback(valkey: EmbeddedValkey) -> None:
    url = valkey.start()

    assert url == f"redis://127.0.0.1:{valkey.port}/0"
    with client(url) as conn:
        assert conn.ping()
        conn.set("greeting", "hello")
        assert conn.get("greeting") == b"hello"
    listening = [c.laddr for c in psutil.Process(valkey.pid).net_connections() if c.status == "LISTEN"]
    assert [address.ip for address in listening] == ["127.0.0.1"]


def test_writes_only_under_its_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    with EmbeddedValkey(tmp_path / "valkey") as valkey, client(valkey.url) as conn:
        conn.set("queued", "task")
        conn.bgrewriteaof()

    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "valkey").iterdir()) == [
        "appendonlydir",
        "port",
        "valkey.conf",
        "valkey.lock",
        "valkey.log",
    ]


def test_the_server_is_out_of_reach_of_the_terminals_ctrl_c(valkey: EmbeddedValkey) -> None:
    valkey.start()
    assert valkey.pid is not None

    assert os.getsid(valkey.pid) != os.getsid(0)


def test_data_and_port_persist_across_stop_and_start(tmp_path: Path) -> None:
    with EmbeddedValkey(tmp_path / "valkey") as first, client(first.url) as conn:
        conn.set("queued", "task")
        port = first.port

    with EmbeddedValkey(tmp_path / "valkey") as second, client(second.url) as conn:
        assert second.port == port
        assert conn.get("queued") == b"task"
    assert (tmp_path / "valkey" / "appendonlydir").is_dir()


def test_stop_leaves_no_valkey_process(valkey: EmbeddedValkey) -> None:
    valkey.start()
    assert valkey.pid is not None
    server = psutil.Process(valkey.pid)

    valkey.stop()

    assert gone(server)
    assert valkey.pid is None


def test_restarts_after_the_server_is_killed(valkey: EmbeddedValkey) -> None:
    url = valkey.start()
    with client(url) as conn:
        conn.set("queued", "task")
        conn.execute_command("WAITAOF", 1, 0, 1000)  # on disk before the kill, not a second later
    assert valkey.pid is not None
    os.kill(valkey.pid, signal.SIGKILL)
    while valkey.pid is not None:  # the kill lands asynchronously
        time.sleep(0.01)

    with client(valkey.start()) as conn:
        assert conn.get("queued") == b"task"


def test_start_stops_a_server_left_running_by_a_killed_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "valkey"
    run = subprocess.Popen(
        [sys.executable, "-c", _DOOMED_RUN, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    assert run.stdout is not None
    orphan = psutil.Process(int(run.stdout.readline()))
    run.kill()
    run.wait()
    assert orphan.is_running()

    with EmbeddedValkey(data_dir) as valkey, client(valkey.url) as conn:
        assert gone(orphan)
        assert conn.get("queued") == b"task"


def test_a_second_starter_on_the_same_data_dir_is_refused(valkey: EmbeddedValkey) -> None:
    url = valkey.start()

    with pytest.raises(DataDirInUse):
        EmbeddedValkey(valkey.data_dir).start()

    with client(url) as conn:
        assert conn.ping()
