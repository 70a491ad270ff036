"""`semantik run`: start whatever services are not given by URL, then serve web and worker in one process.

`semantik serve` is its container twin: every service given by URL, the web server alone.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("semantik.run")

DEFAULT_MODEL = "all-minilm-l6-v2"
# PostgreSQL advisory lock held while one process migrates (any constant both sides agree on).
MIGRATION_LOCK = 0x53454D414E54494B  # "SEMANTIK"


@dataclass(frozen=True)
class RunOptions:
    host: str
    port: int
    with_worker: bool


def data_dir() -> Path:
    """DATA_DIR as settings.py reads it (made if missing), without importing the settings."""
    from semantik.env import get_str

    default = Path(__file__).resolve().parents[3] / "data"
    path = Path(get_str("DATA_DIR", str(default))).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def embedded_services(data_dir: Path) -> Iterator[None]:
    """Start the embedded twin of each service whose URL is not set, and stop them in reverse order."""
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            from semantik.stack.postgres import EmbeddedPostgres

            postgres = stack.enter_context(EmbeddedPostgres(data_dir / "postgres"))
            os.environ["DATABASE_URL"] = postgres.url
            logger.info("PostgreSQL (embedded) at %s", postgres.url)
        if not os.environ.get("REDIS_URL"):
            from semantik.stack.valkey import EmbeddedValkey

            valkey = stack.enter_context(EmbeddedValkey(data_dir / "valkey"))
            os.environ["REDIS_URL"] = valkey.url
            logger.info("Valkey (embedded) at %s", valkey.url)
        backend = os.environ.get("INFERENCE_BACKEND", "triton")
        if backend == "triton" and not os.environ.get("TRITON_URL"):
            stack.enter_context(_embedded_triton(data_dir))
        yield


@contextlib.contextmanager
def _embedded_triton(data_dir: Path) -> Iterator[None]:
    from semantik.env import get_str
    from semantik.inference.models import CPU_TARGET, list_models
    from semantik.inference.server import TritonServer
    from semantik.stack.ports import remembered_port

    repository = Path(
        get_str("MODEL_REPOSITORY", str(Path(__file__).resolve().parents[3] / "model_repository"))
    )
    # The embedded Triton runs on the CPU; GPU exports in the same repository are for another Triton.
    models = [m.name for m in list_models(repository) if m.target == CPU_TARGET]
    if not models:
        raise SystemExit(f"No exported model in {repository}: run `make models` first.")
    state = data_dir / "triton"
    state.mkdir(exist_ok=True)
    server = TritonServer(
        repository,
        http_port=remembered_port(state / "http.port"),
        grpc_port=remembered_port(state / "grpc.port"),
        metrics_port=remembered_port(state / "metrics.port"),
        log_path=data_dir / "logs" / "triton.log",
        models=models,
    )
    (data_dir / "logs").mkdir(exist_ok=True)
    server.start()
    try:
        os.environ["TRITON_URL"] = server.grpc_url
        # Its Prometheus endpoint is re-exposed under Semantik's /metrics.
        os.environ["TRITON_METRICS_URL"] = server.metrics_url
        logger.info("Triton (embedded, CPU) at %s serving %s", server.grpc_url, ", ".join(models))
        yield
    finally:
        server.stop()


def _prepare_django() -> None:
    """Migrate, collect static files and create the administrator, one process at a time.

    Web replicas start together; under PostgreSQL's advisory lock the first migrates and the
    others wait, then find nothing left to do.
    """
    import django
    from django.core.management import call_command
    from django.db import connection

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")
    django.setup()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            # Through the log, so a JSON log stays all JSON; a generated password is a warning.
            said = io.StringIO()
            call_command("ensure_admin", stdout=said)
            for line in said.getvalue().splitlines():
                logger.log(logging.WARNING if "password" in line else logging.INFO, "%s", line)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
    connection.close()


# Waits before starting the in-process worker again after it stopped on its own, one per failure in
# a row; a worker that ran for WORKER_STABLE_S starts the sequence over.
WORKER_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
WORKER_STABLE_S = 60.0


def _embedded_worker() -> Any:
    """A Celery worker whose pool is threads of this process: the embedded Qdrant admits one process only."""
    from django.conf import settings

    from semantik.celery import app
    from semantik.documents.tasks import resume_orphaned_operations

    return app.WorkController(
        # A bare WorkController sends no worker_ready signal; resume what a killed run left here.
        ready_callback=lambda consumer: resume_orphaned_operations(),
        pool_cls="threads",
        concurrency=settings.CELERY_WORKER_CONCURRENCY,
        loglevel=settings.LOG_LEVEL,
        hostname=f"semantik-embedded@{os.uname().nodename}",
        without_mingle=True,
        without_gossip=True,
    )


class WorkerSupervisor:
    """Runs the in-process Celery worker and starts a new one whenever it stops on its own.

    A standalone `celery worker` that meets an unrecoverable error exits non-zero and its service
    manager (compose `restart:`, systemd) starts it again; inside `semantik run` nobody would, and
    the app would take operations that no worker ever runs. This is that service manager.
    """

    def __init__(
        self,
        make_worker: Callable[[], Any] = _embedded_worker,
        backoff_s: tuple[float, ...] = WORKER_BACKOFF_S,
        stable_s: float = WORKER_STABLE_S,
    ) -> None:
        self._make_worker = make_worker
        self._backoff_s = backoff_s
        self._stable_s = stable_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._worker: Any = None
        self._thread: threading.Thread | None = None
        self.restarts = 0

    @property
    def worker(self) -> Any:
        """The worker running now (None between a stop and the next start)."""
        return self._worker

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="celery-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30) -> None:
        self._stopping.set()
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.stop(in_sighandler=False)
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                worker = self._worker = self._make_worker()
            started = time.monotonic()
            try:
                worker.start()  # returns when the worker stops, however it stops
            except BaseException:
                logger.exception("The Celery worker failed")
            with self._lock:
                self._worker = None
            if self._stopping.is_set():
                return
            failures = 1 if time.monotonic() - started >= self._stable_s else failures + 1
            delay = self._backoff_s[min(failures, len(self._backoff_s)) - 1]
            logger.error(
                "The Celery worker stopped unexpectedly (exit code %s); starting it again in %.0f s "
                "(failure %d in a row)",
                getattr(worker, "exitcode", None),
                delay,
                failures,
            )
            if self._stopping.wait(delay):
                return
            self.restarts += 1


@contextlib.contextmanager
def celery_worker_thread(supervisor: WorkerSupervisor | None = None) -> Iterator[WorkerSupervisor]:
    """The Celery worker as threads of this process, started again whenever it stops on its own."""
    supervisor = supervisor or WorkerSupervisor()
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


@contextlib.contextmanager
def maintenance_thread(interval_s: float = 60.0) -> Iterator[None]:
    """What Celery beat does in a distributed deployment: fail operations whose worker died,
    queue the periodic syncs that are due, forget expired refresh tokens, and delete staged
    uploads that crashed requests left behind.

    Celery's embedded beat would fork this process, which holds the embedded Qdrant and threads.
    """
    from django.db import connection

    from semantik.accounts.services import refresh_tokens_flush_expired
    from semantik.documents.services import collections_sync_due
    from semantik.documents.uploads import uploads_sweep_staging
    from semantik.operations.services import operations_reap_stale

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            for chore in (
                operations_reap_stale,
                collections_sync_due,
                refresh_tokens_flush_expired,
                uploads_sweep_staging,
            ):
                try:
                    chore()
                except Exception:
                    logger.exception("Maintenance chore %s failed", chore.__name__)
                finally:
                    connection.close()

    thread = threading.Thread(target=loop, name="maintenance", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _exit_on_sigterm() -> None:
    # The embedded servers run in their own sessions so Ctrl-C reaches only us; SIGTERM (from a
    # service manager) must unwind the same way, through the context managers that stop them.
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def run(options: RunOptions) -> None:
    import uvicorn

    _exit_on_sigterm()
    data = data_dir()
    os.environ.setdefault("DATA_DIR", str(data))
    # Triton runs on this machine's CPU too: a search's query costs less embedded right here.
    os.environ.setdefault("QUERY_INFERENCE_BACKEND", "onnx")
    # Requests, Celery's threads and the maintenance thread borrow pooled connections.
    os.environ.setdefault("DATABASE_POOL_SIZE", "20")
    with embedded_services(data):
        _prepare_django()
        with contextlib.ExitStack() as stack:
            if options.with_worker:
                stack.enter_context(celery_worker_thread())
                stack.enter_context(maintenance_thread())
            from semantik.vectors import reset_vector_store

            stack.callback(reset_vector_store)
            logger.info(
                "Semantik is serving on http://%s:%d (Ctrl-C stops everything)", options.host, options.port
            )
            # uvicorn handles SIGINT/SIGTERM in the main thread and returns; the ExitStacks then
            # stop the worker, Triton, Valkey and PostgreSQL in that order.
            # uvicorn logs through Django's LOGGING (JSON or console, with request ids); the
            # request-id middleware writes one line per request, so no access log of its own.
            uvicorn.run(
                "semantik.asgi:application",
                host=options.host,
                port=options.port,
                lifespan="off",
                log_config=None,
                access_log=False,
            )


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int = 1


def serve(options: ServeOptions) -> None:
    """Migrate, then serve the API and UI with every service given by URL (the web container).

    No worker and no embedded service: in a distributed deployment they are containers of their own.
    """
    import uvicorn

    _prepare_django()
    logger.info("Semantik is serving on http://%s:%d", options.host, options.port)
    uvicorn.run(
        "semantik.asgi:application",
        host=options.host,
        port=options.port,
        workers=options.workers,
        # Behind a proxy, the client's address and scheme come from its X-Forwarded-* headers.
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        lifespan="off",
        log_config=None,
        access_log=False,
    )


def manage(arguments: list[str]) -> None:
    """Run a Django management command against the same (embedded or given) services as `run`."""
    from django.core.management import execute_from_command_line

    _exit_on_sigterm()
    data = data_dir()
    os.environ.setdefault("DATA_DIR", str(data))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")
    # Management commands need PostgreSQL and Redis, not Triton.
    os.environ.setdefault("INFERENCE_BACKEND", "onnx")
    with embedded_services(data):
        execute_from_command_line(["semantik manage", *arguments])
