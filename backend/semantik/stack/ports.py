"""What the embedded servers share: loopback ports, a claim on their data directory, their leftovers."""

from __future__ import annotations

import contextlib
import fcntl
import signal
import socket
import time
from pathlib import Path
from typing import IO

import psutil

LOOPBACK = "127.0.0.1"


class DataDirInUse(RuntimeError):
    """Another live process runs a server on this data directory."""


def find_free_port(host: str = LOOPBACK) -> int:
    """A port the kernel says is free right now; another process may still take it before we bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_bindable(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now.

    PostgreSQL and Valkey both listen with SO_REUSEADDR, so connections of a server that just
    stopped, still in TIME_WAIT, do not block a restart; probing with the same option keeps a
    remembered port from looking taken in that window. Linux still refuses the bind when anything
    listens on the port, on this address or on the wildcard one.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def remembered_port(record: Path, host: str = LOOPBACK) -> int:
    """The port kept in `record` if it is still free, otherwise a new free one, which is then kept.

    Reusing the port across restarts keeps URLs that people pasted into tools (psql, a Redis GUI)
    working; falling back keeps a second checkout, or anything else holding the port, from
    stopping the start.
    """
    with contextlib.suppress(OSError, ValueError):
        port = int(record.read_text().strip())
        if 0 < port < 65536 and port_bindable(host, port):
            return port
    port = find_free_port(host)
    record.write_text(f"{port}\n")
    return port


def claim_data_dir(lock_path: Path) -> IO[bytes]:
    """Hold an exclusive lock for as long as we run a server; the kernel drops it if we die.

    So a second starter on the same data directory fails fast instead of stopping a server that
    is in use, and a server found there while we hold the lock has no live owner.
    """
    handle = open(lock_path, "ab")  # noqa: SIM115 - held until release by closing
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirInUse(
            f"{lock_path.parent} is in use by another running process (it holds {lock_path.name})"
        ) from None
    return handle


def processes_in(workdir: Path, name: str) -> list[psutil.Process]:
    """Live processes called `name` whose working directory is workdir (as our servers' is)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != name:
            continue
        with contextlib.suppress(psutil.Error):
            if Path(proc.cwd()) == workdir and running(proc):
                found.append(proc)
    return found


def stop_processes(procs: list[psutil.Process], sig: signal.Signals, grace_s: float) -> None:
    """Send sig, give them grace_s to exit, then SIGKILL whatever is left."""
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)
    for proc in wait_gone(procs, grace_s):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    wait_gone(procs, 2.0)


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until procs have exited; return those still running.

    Not psutil.wait_procs: an orphan is reaped by pid 1, and where pid 1 does not reap (a bare
    container init) it stays a zombie, which wait_procs counts as running.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [proc for proc in procs if running(proc)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_log_from(path: Path, offset: int) -> str:
    """What a server wrote to its log after offset (where this start began)."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""
