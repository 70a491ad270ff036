"""Events from a real worker process, through the real Redis channel layer, to the right sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection

from semantik.catalog.selectors import served_model
from semantik.collections.models import CollectionShare
from semantik.collections.services import collection_create
from tests.conftest import access_token_for
from tests.realtime.sockets import Socket, connect

pytestmark = pytest.mark.django_db(transaction=True)

FILES = 6
OPERATION_EVENTS = {"operation.started", "operation.progress", "operation.completed", "operation.failed"}


async def until_done(ws: Socket, operation_id: str, timeout: float = 180) -> list[dict[str, Any]]:
    """Every message up to and including the operation's end."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            event = await ws.next(timeout)
            seen.append(event)
            if (
                event["type"] in {"operation.completed", "operation.failed"}
                and event["data"]["id"] == operation_id
            ):
                return seen


@contextmanager
def operation_row_locked(operation_id: str) -> Iterator[str]:
    """Hold the operation's row lock: the worker stops at its next progress save until released.

    Yields the operation's status as the worker last saved it.
    """
    db = connection.settings_dict
    with (
        psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"],
            port=db["PORT"],
        ) as locker,
        locker.transaction(),
    ):
        row = locker.execute(
            "SELECT status FROM operations_operation WHERE id = %s FOR UPDATE", [operation_id]
        ).fetchone()
        assert row is not None
        yield str(row[0])


def test_worker_events_arrive_in_order_to_every_reader_a_reconnect_gets_the_state_and_strangers_nothing(
    live_server_asgi, worker_process, documents_root, make_user
):  # type: ignore[no-untyped-def]
    alice, bob, eve = make_user("alice"), make_user("bob"), make_user("eve")
    collection = collection_create(
        owner=alice, name="Journal", model=served_model("all-minilm-l6-v2"), chunk_size=64, chunk_overlap=8
    )
    CollectionShare.objects.create(collection=collection, user=bob, role="viewer")
    folder = documents_root / "journal"
    folder.mkdir()
    for i in range(FILES):
        (folder / f"day-{i}.md").write_text(f"# Day {i}\n\nThe keeper wrote entry number {i} by lamplight.\n")
    worker_process()

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        async with (
            httpx.AsyncClient(base_url=live_server_asgi.url, timeout=30) as http,
            connect(live_server_asgi, alice) as alice_ws,
            connect(live_server_asgi, eve) as eve_ws,
        ):
            assert (await alice_ws.next_of("snapshot"))["data"]["collections"] == [str(collection.pk)]
            assert (await eve_ws.next_of("snapshot"))["data"] == {"collections": [], "operations": []}
            # Eve asks for alice's collection by id: refused, and nothing of it reaches her below.
            await eve_ws.send({"type": "subscribe", "collections": [str(collection.pk)]})
            await eve_ws.next_of("error")
            await eve_ws.next_of("snapshot")

            async with connect(live_server_asgi, bob) as bob_ws:
                await bob_ws.next_of("snapshot")
                added = await http.post(
                    f"/api/v2/collections/{collection.pk}/sources",
                    json={"path": str(folder)},
                    headers={"Authorization": f"Bearer {access_token_for(alice)}"},
                )
                assert added.status_code == 202, added.text
                operation_id = added.json()["operation_id"]
                # Bob reads the collection as a viewer, so he sees the work begin; then his socket drops.
                assert (await bob_ws.next(60))["type"] == "operation.started"

            with ExitStack() as held:
                # The worker is held at its next progress save while bob reconnects.
                status = held.enter_context(operation_row_locked(operation_id))
                assert status == "processing", "the operation ended before it could be held"
                async with connect(live_server_asgi, bob) as bob_again:
                    snapshot = await bob_again.next_of("snapshot")
                    held.close()
                    bob_events = await until_done(bob_again, operation_id)
            alice_events = await until_done(alice_ws, operation_id)
            # The collection's statistics changed with the operation's end.
            updated = (await alice_ws.next_of("collection.updated"))["data"]
            assert (updated["status"], updated["document_count"]) == ("ready", FILES)
            await eve_ws.silent(1)
            return alice_events, snapshot, bob_events

    alice_events, snapshot, bob_events = asyncio.run(scenario())

    operation_events = [e for e in alice_events if e["type"] in OPERATION_EVENTS]
    assert operation_events[0]["type"] == "operation.started"
    assert operation_events[-1]["type"] == "operation.completed"
    assert {e["type"] for e in operation_events[1:-1]} == {"operation.progress"}
    processed = [e["data"]["files_processed"] for e in operation_events]
    assert processed == sorted(processed) and processed[-1] == FILES
    documents = [e for e in alice_events if e["type"] == "document.processed"]
    assert sorted(e["data"]["path"] for e in documents) == [f"day-{i}.md" for i in range(FILES)]
    stamps = [e["ts"] for e in alice_events]
    assert stamps == sorted(stamps)
    assert all(set(e) == {"type", "ts", "data"} for e in alice_events)

    # The reconnected socket: the operation as it stood, then everything after it, to the end.
    (state,) = snapshot["data"]["operations"]
    assert (state["id"], state["status"]) == (operation_events[0]["data"]["id"], "processing")
    bob_operation_events = [e for e in bob_events if e["type"] in OPERATION_EVENTS]
    assert bob_operation_events[-1]["type"] == "operation.completed"
    assert bob_operation_events[-1]["data"]["files_processed"] == FILES
    assert all(e["data"]["files_processed"] >= state["files_processed"] for e in bob_operation_events)
    bob_documents = [e for e in bob_events if e["type"] == "document.processed"]
    assert state["files_processed"] + len(bob_documents) == FILES
