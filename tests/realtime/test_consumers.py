"""The live-updates socket over a real server and the real Redis channel layer."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from semantik.collections.models import Collection, CollectionShare
from semantik.operations.models import Operation
from semantik.realtime.connections import slots_key
from semantik.realtime.consumers import CLOSE_TOO_MANY_CONNECTIONS
from semantik.realtime.events import publish
from tests.conftest import access_token_for
from tests.realtime.sockets import connect

pytestmark = pytest.mark.django_db(transaction=True)


def make_collection(owner, name: str, **fields) -> Collection:  # type: ignore[no-untyped-def]
    """A collection row alone: these tests need no vectors."""
    collection_id = uuid.uuid4()
    return Collection.objects.create(
        id=collection_id,
        owner=owner,
        name=name,
        embedding_model="all-minilm-l6-v2",
        vector_dimension=384,
        chunk_size=128,
        chunk_overlap=16,
        vector_collection=f"sk_{collection_id.hex}",
        **fields,
    )


def progress(collection: Collection, marker: str, operation_id: str | None = None) -> None:
    publish(collection.pk, "operation.progress", {"marker": marker}, operation_id=operation_id)


def test_a_socket_without_a_valid_token_is_closed_as_unauthenticated(live_server_asgi):  # type: ignore[no-untyped-def]
    async def attempt(subprotocols: list[str]) -> int:
        async with websockets.connect(
            f"{live_server_asgi.ws_url}/api/v2/ws", subprotocols=subprotocols
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(attempt(["bearer", "not.a.token"])) == 4401


def test_a_token_in_the_url_is_not_accepted(live_server_asgi, user):  # type: ignore[no-untyped-def]
    async def attempt() -> int:
        url = f"{live_server_asgi.ws_url}/api/v2/ws?token={access_token_for(user)}"
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(attempt()) == 4401


def test_a_token_issued_before_a_password_change_no_longer_opens_a_socket(live_server_asgi, user):  # type: ignore[no-untyped-def]
    old_token = access_token_for(user)
    user.set_password("a brand new passphrase 42")
    user.save()

    async def attempt() -> int:
        url = f"{live_server_asgi.ws_url}/api/v2/ws"
        async with websockets.connect(url, subprotocols=["bearer", old_token]) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(attempt()) == 4401


def test_a_browser_on_another_site_is_refused(live_server_asgi, user):  # type: ignore[no-untyped-def]
    async def attempt() -> None:
        async with websockets.connect(
            f"{live_server_asgi.ws_url}/api/v2/ws",
            subprotocols=["bearer", access_token_for(user)],
            origin="https://evil.example",
        ):
            pass

    with pytest.raises(websockets.InvalidStatus):
        asyncio.run(attempt())


def test_ping_gets_pong_and_a_message_of_no_known_type_or_not_json_an_error(live_server_asgi, user):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        async with connect(live_server_asgi, user) as ws:
            await ws.next_of("snapshot")
            await ws.send({"type": "ping"})
            assert (await ws.next_of("pong"))["data"] == {}
            await ws.send({"type": "subscribe", "collections": "everything"})
            assert (await ws.next_of("error"))["data"]["code"] == "invalid"
            await ws.send({"type": "dance"})
            assert (await ws.next_of("error"))["data"]["code"] == "invalid"
            await ws.ws.send("not json")
            assert (await ws.next_of("error"))["data"]["code"] == "invalid"
            await ws.send({"type": "ping"})
            await ws.next_of("pong")

    asyncio.run(scenario())


def test_on_connect_a_socket_follows_its_users_own_and_shared_collections_and_no_one_elses(
    live_server_asgi, make_user
):  # type: ignore[no-untyped-def]
    alice, bob, eve = make_user("alice"), make_user("bob"), make_user("eve")
    mine = make_collection(alice, "Mine")
    shared = make_collection(eve, "Shared with alice")
    CollectionShare.objects.create(collection=shared, user=alice, role="viewer")
    strangers = make_collection(eve, "Eve's own", is_public=True)
    bobs = make_collection(bob, "Bob's")

    async def scenario() -> None:
        async with connect(live_server_asgi, alice) as ws:
            snapshot = await ws.next_of("snapshot")
            assert sorted(snapshot["data"]["collections"]) == sorted([str(mine.pk), str(shared.pk)])
            assert set(snapshot) == {"type", "ts", "data"}
            for collection in (strangers, bobs, shared, mine):
                await sync_to_async(progress)(collection, collection.name)
            # In the order they were sent, and only those of collections alice follows.
            assert (await ws.next())["data"] == {"marker": "Shared with alice"}
            assert (await ws.next())["data"] == {"marker": "Mine"}
            await ws.silent()

    asyncio.run(scenario())


def test_on_connect_the_socket_receives_the_state_of_active_operations(
    live_server_asgi, api, user, models, documents_root
):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Queued"}, format="json").json()
    # No worker runs here, so the operation stays pending: exactly what a reconnecting client must see.
    operation_id = api.post(
        f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json"
    ).json()["operation_id"]

    async def scenario() -> dict:
        async with connect(live_server_asgi, user) as ws:
            return await ws.next_of("snapshot")

    snapshot = asyncio.run(scenario())
    assert snapshot["data"]["collections"] == [collection["id"]]
    assert [op["id"] for op in snapshot["data"]["operations"]] == [operation_id]
    assert snapshot["data"]["operations"][0]["status"] == "pending"


def test_subscribing_to_what_one_may_not_read_is_refused_without_saying_whether_it_exists(
    live_server_asgi, make_user
):  # type: ignore[no-untyped-def]
    alice, eve = make_user("alice"), make_user("eve")
    private = make_collection(alice, "Private")
    operation = Operation.objects.create(collection=private, user=alice, type="index")
    missing = str(uuid.uuid4())

    async def scenario() -> None:
        async with connect(live_server_asgi, eve) as ws:
            await ws.next_of("snapshot")
            await ws.send(
                {
                    "type": "subscribe",
                    "collections": [str(private.pk), missing, "not-an-id"],
                    "operations": [str(operation.pk)],
                }
            )
            error = await ws.next_of("error")
            assert error["data"] == {
                "code": "not_found",
                "message": "Not found, or not yours to see.",
                "collections": [str(private.pk), missing, "not-an-id"],
                "operations": [str(operation.pk)],
            }
            assert (await ws.next_of("snapshot"))["data"] == {"collections": [], "operations": []}
            await sync_to_async(progress)(private, "secret", str(operation.pk))
            await ws.silent()

    asyncio.run(scenario())


def test_a_public_collection_or_one_operation_can_be_subscribed_to_and_left(live_server_asgi, make_user):  # type: ignore[no-untyped-def]
    alice, eve = make_user("alice"), make_user("eve")
    handbook = make_collection(alice, "Handbook", is_public=True)
    notes = make_collection(eve, "Notes")
    running = Operation.objects.create(collection=notes, user=eve, type="index", status="processing")
    other = Operation.objects.create(collection=notes, user=eve, type="rescan")

    async def scenario() -> None:
        async with connect(live_server_asgi, alice) as alice_ws, connect(live_server_asgi, eve) as eve_ws:
            await alice_ws.next_of("snapshot")
            await eve_ws.next_of("snapshot")
            await alice_ws.send({"type": "subscribe", "collections": [str(handbook.pk)]})
            assert (await alice_ws.next_of("snapshot"))["data"] == {
                "collections": [str(handbook.pk)],
                "operations": [],
            }
            # Eve leaves everything she followed, then asks for one operation: its state comes at once.
            await eve_ws.send({"type": "unsubscribe", "all": True})
            left = await eve_ws.next_of("unsubscribed")
            assert left["data"] == {"collections": [str(notes.pk)], "operations": [], "reason": "request"}
            await eve_ws.send({"type": "subscribe", "operations": [str(running.pk)]})
            snapshot = await eve_ws.next_of("snapshot")
            assert [o["id"] for o in snapshot["data"]["operations"]] == [str(running.pk)]
            await sync_to_async(progress)(notes, "the other operation", str(other.pk))
            await sync_to_async(progress)(notes, "hers", str(running.pk))
            await sync_to_async(progress)(handbook, "public news")
            assert (await eve_ws.next())["data"] == {"marker": "hers"}
            assert (await alice_ws.next())["data"] == {"marker": "public news"}
            await alice_ws.send({"type": "unsubscribe", "collections": [str(handbook.pk)]})
            await alice_ws.next_of("unsubscribed")
            await sync_to_async(progress)(handbook, "after leaving")
            await alice_ws.silent()
            await eve_ws.silent()

    asyncio.run(scenario())


def test_a_socket_stops_receiving_a_collections_events_once_its_share_is_deleted(
    live_server_asgi, api, user, make_user, models
):  # type: ignore[no-untyped-def]
    bob = make_user("bob")
    collection = api.post("/api/v2/collections", {"name": "Team"}, format="json").json()
    shares = f"/api/v2/collections/{collection['id']}/shares"
    found = Collection.objects.get(pk=collection["id"])

    async def scenario() -> None:
        async with connect(live_server_asgi, bob) as ws:
            assert (await ws.next_of("snapshot"))["data"]["collections"] == []
            # Shared while connected: the socket follows it at once, with its current state.
            response = await sync_to_async(api.post)(
                shares, {"username": "bob", "role": "viewer"}, format="json"
            )
            assert response.status_code == 201
            assert (await ws.next_of("snapshot"))["data"] == {
                "collections": [collection["id"]],
                "operations": [],
            }
            await sync_to_async(progress)(found, "while shared")
            # The sharing's own collection.updated may come before the marker, if it found bob's
            # socket in the collection's group already.
            event = await ws.next()
            if event["type"] == "collection.updated":
                event = await ws.next()
            assert event["data"] == {"marker": "while shared"}
            assert (await sync_to_async(api.delete)(f"{shares}/{bob.pk}")).status_code == 204
            revoked = await ws.next_of("unsubscribed")
            assert revoked["data"] == {
                "collections": [collection["id"]],
                "operations": [],
                "reason": "access_revoked",
            }
            await sync_to_async(progress)(found, "after the share ended")
            await ws.silent()

    asyncio.run(scenario())


def test_making_a_collection_private_drops_the_sockets_that_read_it_as_public(
    live_server_asgi, api, make_user, models
):  # type: ignore[no-untyped-def]
    eve = make_user("eve")
    collection = api.post("/api/v2/collections", {"name": "Was public"}, format="json").json()
    url = f"/api/v2/collections/{collection['id']}"
    api.patch(url, {"is_public": True}, format="json")

    async def scenario() -> None:
        async with connect(live_server_asgi, eve) as ws:
            await ws.next_of("snapshot")
            await ws.send({"type": "subscribe", "collections": [collection["id"]]})
            await ws.next_of("snapshot")
            assert (
                await sync_to_async(api.patch)(url, {"is_public": False}, format="json")
            ).status_code == 200
            assert (await ws.next_of("unsubscribed"))["data"]["reason"] == "access_revoked"
            await sync_to_async(api.patch)(url, {"description": "no longer for eve"}, format="json")
            await ws.silent()

    asyncio.run(scenario())


def test_renaming_a_collection_is_a_collection_updated_event(live_server_asgi, api, user, models):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Before"}, format="json").json()

    async def scenario() -> dict:
        async with connect(live_server_asgi, user) as ws:
            await ws.next_of("snapshot")
            await sync_to_async(api.patch)(
                f"/api/v2/collections/{collection['id']}", {"name": "After"}, format="json"
            )
            return await ws.next_of("collection.updated")

    data = asyncio.run(scenario())["data"]
    assert (data["id"], data["name"], data["document_count"], data["owner"]) == (
        collection["id"],
        "After",
        0,
        "alice",
    )
    assert "role" not in data


def test_a_user_over_the_connection_limit_is_refused_until_one_closes(live_server_asgi, user, settings):  # type: ignore[no-untyped-def]
    settings.WS_MAX_CONNECTIONS_PER_USER = 2

    async def first_message() -> str | int:
        """The first message's type, or the close code if the server closes the socket instead."""
        async with connect(live_server_asgi, user) as ws:
            try:
                return str((await ws.next())["type"])
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None
                return closed.rcvd.code

    async def scenario() -> None:
        async with connect(live_server_asgi, user) as first, connect(live_server_asgi, user) as second:
            await first.next_of("snapshot")
            await second.next_of("snapshot")
            assert await first_message() == CLOSE_TOO_MANY_CONNECTIONS
        # Both closed: their slots are free again, released as the server sees them go.
        deadline = time.monotonic() + 10
        while (outcome := await first_message()) != "snapshot":
            assert outcome == CLOSE_TOO_MANY_CONNECTIONS and time.monotonic() < deadline, outcome
            await asyncio.sleep(0.1)

    asyncio.run(scenario())


def test_slots_left_by_a_crashed_server_expire_instead_of_counting(live_server_asgi, user, settings):  # type: ignore[no-untyped-def]
    settings.WS_MAX_CONNECTIONS_PER_USER = 1
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        client.zadd(slots_key(user.pk), {"dead-server-channel": time.time() - 1})

        async def scenario() -> str:
            async with connect(live_server_asgi, user) as ws:
                return (await ws.next())["type"]

        assert asyncio.run(scenario()) == "snapshot"
    finally:
        client.delete(slots_key(user.pk))
        client.close()


def test_deleting_a_collection_is_a_collection_deleted_event(live_server_asgi, api, user, models):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Doomed"}, format="json").json()

    async def scenario() -> dict:
        async with connect(live_server_asgi, user) as ws:
            await ws.next_of("snapshot")
            await sync_to_async(api.delete)(f"/api/v2/collections/{collection['id']}")
            return await ws.next_of("collection.deleted")

    assert asyncio.run(scenario())["data"] == {"id": collection["id"]}
