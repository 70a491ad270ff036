"""The embedded PostgreSQL: a real server on loopback whose data outlives stops and crashes."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from semantik.stack.ports import DataDirInUse
from semantik.stack.postgres import RUN_AS, EmbeddedPostgres, EmbeddedPostgresError

# A run of Semantik that is killed (kill -9) while its PostgreSQL keeps running.
_DOOMED_RUN = """
import sys, time
from pathlib import Path
import psycopg
from semantik.stack.postgres import EmbeddedPostgres
pg = EmbeddedPostgres(Path(sys.argv[1]))
with psycopg.connect(pg.start()) as conn:
    conn.execute("CREATE TABLE notes (body text)")
    conn.execute("INSERT INTO notes VALUES ('written before the crash')")
print(pg.pid, flush=True)
time.sleep(120)
"""


def scratch_dir() -> Path:
    # Not tmp_path: every pytest session started as root resets /tmp/pytest-of-root to 0700, which
    # locks the server's unprivileged account out of a cluster below it while another session starts.
    return Path(tempfile.mkdtemp(prefix="semantik-test-"))


@pytest.fixture
def empty_dir() -> Iterator[Path]:
    parent = scratch_dir()
    yield parent / "postgres"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def initialised_cluster() -> Iterator[Path]:
    """One initdb (1-2 s) for the module; each test starts from a copy of it (0.1 s)."""
    parent = scratch_dir()
    with EmbeddedPostgres(parent / "postgres"):
        pass
    yield parent / "postgres"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def data_dir(initialised_cluster: Path) -> Iterator[Path]:
    parent = scratch_dir()
    shutil.copytree(initialised_cluster / "pgdata", parent / "postgres" / "pgdata", symlinks=True)
    yield parent / "postgres"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def postgres(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(data_dir)
    yield server
    server.stop()


def query(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(statement).fetchall()


def execute(url: str, statement: str) -> None:
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute(statement)


def server_family(pid: int) -> list[psutil.Process]:
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


def gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_start_initialises_a_cluster_and_returns_a_url_for_the_database_on_loopback(
    empty_dir: Path,
) -> None:
    with EmbeddedPostgres(empty_dir) as postgres:
        url = postgres.url
        assert postgres.pid is not None
        listening = [c.laddr for c in psutil.Process(postgres.pid).net_connections() if c.status == "LISTEN"]

        assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/semantik"
        assert query(url, "SELECT current_database(), 1 + 1") == [("semantik", 2)]
        assert query(url, "SHOW listen_addresses") == [("127.0.0.1",)]
        assert query(url, "SHOW unix_socket_directories") == [("",)]
        assert [address.ip for address in listening] == ["127.0.0.1"]


def test_data_and_port_persist_across_stop_and_start(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir) as first:
        execute(first.url, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")
        port = first.port

    with EmbeddedPostgres(data_dir) as second:
        assert second.port == port
        assert query(second.url, "SELECT body FROM notes") == [("kept",)]


def test_the_server_is_out_of_reach_of_the_terminals_ctrl_c(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    assert postgres.pid is not None

    assert os.getsid(postgres.pid) != os.getsid(0)


def test_stop_leaves_no_postgres_process(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    assert postgres.pid is not None
    family = server_family(postgres.pid)
    assert len(family) > 3  # postmaster, checkpointer, walwriter, ...

    postgres.stop()

    assert all(gone(proc) for proc in family)
    assert not (postgres.pgdata / "postmaster.pid").exists()


def test_restarts_after_the_server_is_killed(postgres: EmbeddedPostgres) -> None:
    url = postgres.start()
    execute(url, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('committed')")
    assert postgres.pid is not None
    os.kill(postgres.pid, signal.SIGKILL)
    while postgres.pid is not None:  # the kill lands asynchronously
        time.sleep(0.01)

    url = postgres.start()

    assert query(url, "SELECT body FROM notes") == [("committed",)]


@pytest.mark.parametrize("server_killed_too", [False, True], ids=["server-orphaned", "server-killed"])
def test_start_recovers_from_a_run_killed_with_kill_9(data_dir: Path, server_killed_too: bool) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", _DOOMED_RUN, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    assert run.stdout is not None
    old_family = server_family(int(run.stdout.readline()))
    run.kill()
    run.wait()
    if server_killed_too:
        old_family[0].kill()
    assert (data_dir / "pgdata" / "postmaster.pid").exists()

    with EmbeddedPostgres(data_dir) as postgres:
        assert query(postgres.url, "SELECT body FROM notes") == [("written before the crash",)]
        assert all(gone(proc) for proc in old_family)


def test_a_second_starter_on_the_same_data_dir_is_refused(postgres: EmbeddedPostgres) -> None:
    url = postgres.start()

    with pytest.raises(DataDirInUse):
        EmbeddedPostgres(postgres.data_dir).start()

    assert query(url, "SELECT 1") == [(1,)]


def test_moves_to_a_free_port_when_the_remembered_one_is_taken(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    taken = postgres.port
    postgres.stop()

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        url = postgres.start()

        assert postgres.port != taken
        assert query(url, "SELECT 1") == [(1,)]
        assert (postgres.data_dir / "port").read_text().strip() == str(postgres.port)


def test_a_port_that_was_asked_for_and_is_taken_fails_the_start(data_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        with pytest.raises(EmbeddedPostgresError, match=f"port {taken}"):
            EmbeddedPostgres(data_dir, port=taken).start()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches to another account")
def test_as_root_the_server_runs_as_an_unprivileged_account(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    account = pwd.getpwnam(RUN_AS)
    assert postgres.pid is not None

    server = psutil.Process(postgres.pid)

    assert set(server.uids()) == {account.pw_uid}
    assert set(server.gids()) == {account.pw_gid}
    assert postgres.pgdata.stat().st_uid == account.pw_uid
