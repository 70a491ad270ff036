"""The live-updates socket over a real server."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async

from semantik.realtime.events import publish
from tests.conftest import access_token_for

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_events_reach_only_their_user(live_server_asgi, make_user):  # type: ignore[no-untyped-def]
    alice, bob = make_user("alice"), make_user("bob")

    async def scenario() -> None:
        url = f"{live_server_asgi.ws_url}/api/v2/ws"
        async with (
            websockets.connect(url, subprotocols=["bearer", access_token_for(alice)]) as alice_ws,
            websockets.connect(url, subprotocols=["bearer", access_token_for(bob)]) as bob_ws,
        ):
            for ws in (alice_ws, bob_ws):
                assert json.loads(await ws.recv())["type"] == "snapshot"
            await sync_to_async(publish)(alice.pk, "operation.progress", {"id": "for-alice"})
            event = json.loads(await asyncio.wait_for(alice_ws.recv(), 10))
            assert event["type"] == "operation.progress" and event["data"] == {"id": "for-alice"}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(bob_ws.recv(), 1)

    asyncio.run(scenario())


def test_ping_gets_pong(live_server_asgi, user):  # type: ignore[no-untyped-def]
    async def scenario() -> dict:
        async with websockets.connect(
            f"{live_server_asgi.ws_url}/api/v2/ws", subprotocols=["bearer", access_token_for(user)]
        ) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "ping"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(scenario())["type"] == "pong"


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


def test_on_connect_the_socket_receives_the_state_of_active_operations(
    live_server_asgi, api, user, models, documents_root
):  # type: ignore[no-untyped-def]
    collection = api.post("/api/v2/collections", {"name": "Queued"}, format="json").json()
    # No worker runs here, so the operation stays pending: exactly what a reconnecting client must see.
    operation_id = api.post(
        f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json"
    ).json()["operation_id"]

    async def scenario() -> dict:
        async with websockets.connect(
            f"{live_server_asgi.ws_url}/api/v2/ws", subprotocols=["bearer", access_token_for(user)]
        ) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    snapshot = asyncio.run(scenario())
    assert snapshot["type"] == "snapshot"
    assert [op["id"] for op in snapshot["data"]["operations"]] == [operation_id]
    assert snapshot["data"]["operations"][0]["status"] == "pending"
