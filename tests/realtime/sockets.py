"""A WebSocket client for tests: connect as a user, read the next event, assert silence."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets

from tests.conftest import access_token_for


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        return dict(json.loads(await asyncio.wait_for(self.ws.recv(), timeout)))

    async def next_of(self, event_type: str, timeout: float = 10) -> dict[str, Any]:
        """The next message, which must be of `event_type`."""
        event = await self.next(timeout)
        assert event["type"] == event_type, event
        return event

    async def silent(self, seconds: float = 0.5) -> None:
        """Nothing arrives for `seconds`."""
        with pytest.raises(TimeoutError):
            event = await self.next(seconds)
            raise AssertionError(f"Expected silence, got {event}")

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))


@asynccontextmanager
async def connect(server: Any, user: Any) -> AsyncIterator[Socket]:
    async with websockets.connect(
        f"{server.ws_url}/api/v2/ws", subprotocols=["bearer", access_token_for(user)]
    ) as ws:
        yield Socket(ws)
