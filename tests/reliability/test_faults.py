"""Fault injection: real processes killed for real (SIGKILL) and real connections dropped.

Each test breaks one dependency in the middle of an indexing operation and checks that the
operation either completes exactly or fails with a clear reason and is retried (POST
/api/v2/operations/{id}/retry) to an exact result: Qdrant holds precisely the chunks of the
collection's indexed documents. While the dependency is down the API answers at once (every request
carries a client timeout), with a 503 naming it where the request needs it; once it is back the
same server answers again, without a restart.

The moment of the fault is chosen, not guessed: the test holds the operation's row lock, so the
worker stops at its next progress save, breaks the dependency, and lets go.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection
from kombu.transport import redis as kombu_redis

from semantik.catalog.selectors import served_model
from semantik.collections.models import Collection
from semantik.collections.services import collection_create
from semantik.documents.models import Document
from semantik.stack.runner import WorkerSupervisor, celery_worker_thread
from semantik.vectors import reset_vector_store
from tests.conftest import access_token_for
from tests.documents.test_services import assert_exact
from tests.realtime.sockets import connect
from tests.realtime.test_worker_events import operation_row_locked

pytestmark = pytest.mark.django_db(transaction=True)

FILES = 24
# Every request in these tests must be answered within this; a hang fails the test.
REQUEST_TIMEOUT_S = 10
FINISHED = {"completed", "failed", "cancelled"}


def write_corpus(root: Path, name: str, files: int = FILES) -> Path:
    folder = root / name
    folder.mkdir()
    for i in range(files):
        line = f"Keeper's log {name} {i}: the lighthouse lamp burned through the storm."
        lines = [f"{line} Line {n}." for n in range(12)]
        (folder / f"log-{i:02}.md").write_text(f"# Log {i}\n\n" + "\n".join(lines) + "\n")
    return folder


def new_collection(user: Any, name: str) -> Collection:
    return collection_create(
        owner=user, name=name, model=served_model("all-minilm-l6-v2"), chunk_size=48, chunk_overlap=8
    )


class Api:
    """The live server, as a client with credentials and a deadline on every request."""

    def __init__(self, server: Any, user: Any) -> None:
        self.http = httpx.Client(
            base_url=server.url,
            timeout=REQUEST_TIMEOUT_S,
            headers={"Authorization": f"Bearer {access_token_for(user)}"},
        )

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body)

    def add_folder(self, collection: Collection, folder: Path) -> httpx.Response:
        return self.post(f"/api/v2/collections/{collection.pk}/sources", {"path": str(folder)})

    def operation(self, operation_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v2/operations/{operation_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_until(
        self, operation_id: str, done: Callable[[dict[str, Any]], bool], timeout_s: float = 90
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while not done(state := self.operation(operation_id)):
            assert time.monotonic() < deadline, f"operation {operation_id} did not get there: {state}"
            time.sleep(0.1)
        return state

    def finished(self, operation_id: str, timeout_s: float = 90) -> dict[str, Any]:
        return self.wait_until(operation_id, lambda s: s["status"] in FINISHED, timeout_s)

    def retry(self, operation_id: str) -> str:
        response = self.post(f"/api/v2/operations/{operation_id}/retry")
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def search(self, collection: Collection, query: str) -> httpx.Response:
        return self.post("/api/v2/search", {"query": query, "collections": [str(collection.pk)], "k": 3})

    def readiness(self) -> tuple[int, list[str], dict[str, Any]]:
        response = self.http.get("/api/health/readyz")
        body = response.json()
        return response.status_code, body["down"], body["checks"]

    def ready_again(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while (readiness := self.readiness())[0] != 200:
            assert time.monotonic() < deadline, f"not ready again: {readiness}"
            time.sleep(0.2)


def assert_unavailable(response: httpx.Response, service: str) -> None:
    """A 503 in the API's error shape, naming the service that is down."""
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "service_unavailable", error
    assert service.lower() in error["message"].lower(), error


def assert_all_indexed(collection: Collection, files: int) -> None:
    documents = Document.objects.filter(collection=collection)
    assert documents.count() == files
    assert set(documents.values_list("status", flat=True)) == {Document.Status.INDEXED}
    assert_exact(collection)


# --- A worker process killed ---------------------------------------------------------------


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its extraction processes: no shutdown, no acknowledgement."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def test_a_worker_killed_mid_operation_resumes_when_restarted_and_ends_exact(
    live_server_asgi, worker_process, documents_root, user
):  # type: ignore[no-untyped-def]
    collection = new_collection(user, "Lighthouse")
    folder = write_corpus(documents_root, "lighthouse")
    api = Api(live_server_asgi, user)
    worker = worker_process()  # it owns the embedded Qdrant from here until it stops

    added = api.add_folder(collection, folder)
    assert added.status_code == 202, added.text
    operation_id = added.json()["operation_id"]
    api.wait_until(operation_id, lambda s: s["status"] == "processing")
    with operation_row_locked(operation_id) as status:
        assert status == "processing", "the operation ended before the worker could be killed"
        kill_worker(worker)
    # The API is not the worker: it still answers, with the operation as the dead worker left it.
    assert api.operation(operation_id)["status"] == "processing"
    assert api.get("/api/v2/collections").status_code == 200

    worker = worker_process()  # finds the operation of its dead predecessor and resumes it
    state = api.finished(operation_id)
    assert state["status"] == "completed", state
    stop_worker(worker)
    reset_vector_store()
    assert_all_indexed(collection, FILES)


def test_a_worker_killed_for_good_has_its_operation_failed_by_the_reaper_then_retried_exactly(
    live_server_asgi, worker_process, documents_root, user, settings
):  # type: ignore[no-untyped-def]
    from semantik.operations.services import operations_reap_stale

    collection = new_collection(user, "Reaped")
    folder = write_corpus(documents_root, "reaped")
    api = Api(live_server_asgi, user)
    worker = worker_process()
    operation_id = api.add_folder(collection, folder).json()["operation_id"]
    api.wait_until(operation_id, lambda s: s["status"] == "processing")
    with operation_row_locked(operation_id):
        kill_worker(worker)

    # No worker comes back on this host: the reaper (Celery beat's chore) fails it once its
    # heartbeat is stale, saying why and that a retry loses nothing.
    settings.OPERATION_STALE_AFTER_S = 2
    deadline = time.monotonic() + 30
    while not operations_reap_stale():
        assert time.monotonic() < deadline, "the reaper did not fail the dead worker's operation"
        time.sleep(0.5)
    failed = api.operation(operation_id)
    assert failed["status"] == "failed"
    assert "stopped responding" in failed["error"] and "Run it again" in failed["error"], failed

    worker = worker_process()  # a failed operation is not resumed: it waits for the retry
    retried = api.retry(operation_id)
    state = api.finished(retried)
    assert state["status"] == "completed", state
    stop_worker(worker)
    reset_vector_store()
    assert_all_indexed(collection, FILES)


# --- Triton killed -------------------------------------------------------------------------


def test_triton_killed_mid_operation_fails_it_with_the_reason_answers_503_and_a_retry_ends_exact(
    own_triton, live_server_asgi, celery_worker, documents_root, user
):  # type: ignore[no-untyped-def]
    collection = new_collection(user, "Inference")
    folder = write_corpus(documents_root, "inference")
    api = Api(live_server_asgi, user)

    operation_id = api.add_folder(collection, folder).json()["operation_id"]
    api.wait_until(operation_id, lambda s: s["status"] == "processing")
    with operation_row_locked(operation_id) as status:
        assert status == "processing"
        os.killpg(own_triton.pid, signal.SIGKILL)  # the server and its python backend stubs
    state = api.finished(operation_id)

    # The operation failed on its own, saying that Triton is unreachable; what it wrote is whole.
    assert state["status"] == "failed", state
    assert "Triton" in state["error"] and "not reachable" in state["error"], state
    assert_exact(collection)
    # While Triton is down: readiness names it, a search says why it cannot run, the rest answers.
    status, down, checks = api.readiness()
    assert (status, down) == (503, ["triton"]), checks
    assert_unavailable(api.search(collection, "lighthouse lamp"), "Triton")
    assert api.get("/api/v2/collections").status_code == 200

    own_triton.stop()  # reaps what the SIGKILL left
    own_triton.start(deadline_s=60)  # the same ports: the running app finds it again by itself
    api.ready_again()
    retried = api.retry(operation_id)
    assert api.finished(retried)["status"] == "completed"
    assert_all_indexed(collection, FILES)
    hits = api.search(collection, "the lighthouse lamp burned through the storm")
    assert hits.status_code == 200 and hits.json()["results"], hits.text


# --- Redis restarted -----------------------------------------------------------------------


def restart_redis_under_an_operation(
    own_redis: Any,
    live_server_asgi: Any,
    documents_root: Path,
    user: Any,
    start_worker_process: Callable[[], object] | None = None,
) -> tuple[Collection, str, Collection]:
    """Redis is killed while an operation runs and a socket listens, then started again.

    Returns the collection of the operation that ran (completed, its vectors not yet checked: a
    worker process may own Qdrant), and the operation refused while Redis was down with its collection.
    `start_worker_process` starts a worker process once the collections exist (creating one opens
    the embedded Qdrant in this process); from then on it owns Qdrant, so readiness, which checks
    Qdrant from this process, is not asked.
    """
    collection = new_collection(user, "Broker")
    other = new_collection(user, "Queued while down")
    folder = write_corpus(documents_root, "broker")
    other_folder = write_corpus(documents_root, "queued", files=3)
    if start_worker_process is not None:
        start_worker_process()
    api = Api(live_server_asgi, user)

    async def scenario() -> tuple[str, str, list[dict[str, Any]]]:
        async with connect(live_server_asgi, user) as ws:
            assert (await ws.next_of("snapshot"))["data"]["collections"]
            added = await asyncio.to_thread(api.add_folder, collection, folder)
            assert added.status_code == 202, added.text
            operation_id = added.json()["operation_id"]
            await asyncio.to_thread(api.wait_until, operation_id, lambda s: s["status"] == "processing")

            with operation_row_locked(operation_id):
                os.kill(own_redis.pid, signal.SIGKILL)  # a crash: no shutdown, no final fsync

                # While Redis is down: readiness names it; reading answers; a new operation cannot be
                # queued, so it is refused with the reason and left failed, not pending for good.
                if start_worker_process is None:
                    status, down, checks = await asyncio.to_thread(api.readiness)
                    assert (status, down) == (503, ["redis"]), checks
                listed = await asyncio.to_thread(api.get, "/api/v2/collections")
                assert listed.status_code == 200, listed.text
                refused = await asyncio.to_thread(api.add_folder, other, other_folder)
                assert_unavailable(refused, "Redis")
                unqueued = refused.json()["error"]["details"]["operation_id"]
                unqueued_state = await asyncio.to_thread(api.operation, unqueued)
                assert unqueued_state["status"] == "failed" and "Redis" in unqueued_state["error"]

                own_redis.start()  # the same port, its append-only file replayed
            if start_worker_process is None:
                await asyncio.to_thread(api.ready_again)

            # The socket outlived the outage: it says what it follows now, then the rest arrives.
            events = []
            async with asyncio.timeout(90):
                while True:
                    event = await ws.next(90)
                    events.append(event)
                    if event["type"] in {"operation.completed", "operation.failed"} and (
                        event["data"]["id"] == operation_id
                    ):
                        break
            return operation_id, unqueued, events

    operation_id, unqueued, events = asyncio.run(scenario())
    assert "snapshot" in [e["type"] for e in events], [e["type"] for e in events]
    assert events[-1]["type"] == "operation.completed", events[-1]
    assert api.operation(operation_id)["status"] == "completed"
    return collection, unqueued, other


def keeps_taking_tasks(api: Api, unqueued: str, fresh: Collection, documents_root: Path) -> None:
    """After the outage the worker runs the refused operation, retried, and a new one into `fresh`."""
    retried = api.retry(unqueued)
    added = api.add_folder(fresh, write_corpus(documents_root, "after", files=4))
    assert added.status_code == 202, added.text
    assert api.finished(retried, timeout_s=60)["status"] == "completed"
    assert api.finished(added.json()["operation_id"], timeout_s=60)["status"] == "completed"


def test_redis_restarted_mid_operation_and_mid_stream_loses_no_operation_and_no_socket_and_the_worker_goes_on(
    own_redis, triton, models, live_server_asgi, celery_worker, documents_root, user
):  # type: ignore[no-untyped-def]
    # The worker runs in this process, as in `semantik run`, with a free slot: its consumer is
    # waiting on Redis (BRPOP) when Redis dies, which is what broke kombu 5.7.0 (semantik/celery.py).
    collection, unqueued, other = restart_redis_under_an_operation(
        own_redis, live_server_asgi, documents_root, user
    )
    fresh = new_collection(user, "Added after the outage")
    keeps_taking_tasks(Api(live_server_asgi, user), unqueued, fresh, documents_root)
    assert_all_indexed(collection, FILES)
    assert_all_indexed(other, 3)
    assert_all_indexed(fresh, 4)


def test_redis_restarted_under_a_running_task_leaves_the_worker_process_running_and_taking_tasks(
    own_redis, triton, live_server_asgi, worker_process, documents_root, user
):  # type: ignore[no-untyped-def]
    fresh = new_collection(user, "Added after the outage")
    started = []

    def start_worker() -> None:
        # The collections exist, so this process is done with Qdrant; the worker owns it from here.
        # A free slot: its consumer is waiting on Redis when Redis dies, as in kombu's bug.
        started.append(worker_process(concurrency=2))

    collection, unqueued, other = restart_redis_under_an_operation(
        own_redis, live_server_asgi, documents_root, user, start_worker_process=start_worker
    )
    keeps_taking_tasks(Api(live_server_asgi, user), unqueued, fresh, documents_root)
    [worker] = started
    assert worker.poll() is None, "the worker process stopped"
    stop_worker(worker)
    assert worker.returncode == 0
    reset_vector_store()
    assert_all_indexed(collection, FILES)
    assert_all_indexed(other, 3)
    assert_all_indexed(fresh, 4)


def test_the_in_process_worker_killed_by_a_redis_restart_is_started_again_by_its_supervisor(
    own_redis, triton, models, live_server_asgi, documents_root, user, monkeypatch, caplog
):  # type: ignore[no-untyped-def]
    # kombu 5.7.0's bug put back (the one semantik/celery.py works around): the worker stops for good
    # on "Unrecoverable error", as any other fatal error would stop it; only `semantik run`'s
    # supervisor brings it back.
    channel = kombu_redis.Channel
    monkeypatch.setattr(channel, "_connparams", channel._semantik_original_connparams)
    supervisor = WorkerSupervisor(backoff_s=(0.5,))
    with celery_worker_thread(supervisor):
        deadline = time.monotonic() + 30
        while not getattr(getattr(supervisor.worker, "consumer", None), "connection", None):
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        first = supervisor.worker
        collection, unqueued, other = restart_redis_under_an_operation(
            own_redis, live_server_asgi, documents_root, user
        )
        fresh = new_collection(user, "Added after the outage")
        keeps_taking_tasks(Api(live_server_asgi, user), unqueued, fresh, documents_root)
        assert supervisor.restarts >= 1 and supervisor.worker is not first
        assert first.exitcode == 1  # what a standalone `celery worker` exits with, for its restart policy
        assert "The Celery worker stopped unexpectedly" in caplog.text
    assert_all_indexed(collection, FILES)
    assert_all_indexed(other, 3)
    assert_all_indexed(fresh, 4)


# --- PostgreSQL connections dropped ----------------------------------------------------------


def _admin_connection() -> psycopg.Connection[Any]:
    """A connection to the server's maintenance database, outside the app's own."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"],
        autocommit=True,
    )


def drop_app_connections(admin: psycopg.Connection[Any], database: str) -> int:
    row = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        [database],
    ).fetchone()
    return int(row[0]) if row else 0


def test_postgres_connections_dropped_mid_operation_then_refused_answer_503_and_recover(
    triton, models, live_server_asgi, celery_worker, documents_root, user
):  # type: ignore[no-untyped-def]
    database = connection.settings_dict["NAME"]
    collection = new_collection(user, "Ledger")
    folder = write_corpus(documents_root, "ledger")
    api = Api(live_server_asgi, user)

    with _admin_connection() as admin:
        operation_id = api.add_folder(collection, folder).json()["operation_id"]
        api.wait_until(operation_id, lambda s: s["status"] == "processing")
        # Every connection of the app goes: the worker's, its heartbeat's, this test's; the lock
        # holder's too, which lets the worker go on, on a connection that is gone.
        with contextlib.suppress(psycopg.OperationalError), operation_row_locked(operation_id):
            assert drop_app_connections(admin, database) >= 2
        connection.close()
        state = api.finished(operation_id)
        if state["status"] == "failed":
            assert "connection to PostgreSQL was lost" in state["error"], state
            state = api.finished(api.retry(operation_id))
        assert state["status"] == "completed", state
        assert_all_indexed(collection, FILES)

        # PostgreSQL refuses the app's database altogether: 503s naming it, at once.
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            drop_app_connections(admin, database)
            status, down, checks = api.readiness()
            assert (status, down) == (503, ["postgres"]), checks
            assert_unavailable(api.get("/api/v2/collections"), "PostgreSQL")
            assert_unavailable(api.search(collection, "lighthouse"), "PostgreSQL")
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        connection.close()
    api.ready_again()
    assert api.get("/api/v2/collections").status_code == 200
    hits = api.search(collection, "the lighthouse lamp burned through the storm")
    assert hits.status_code == 200 and hits.json()["results"], hits.text
