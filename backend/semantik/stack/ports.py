"""Loopback TCP ports for the embedded servers: find a free one, remember it, probe it."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"


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
