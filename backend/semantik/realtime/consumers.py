"""The live-updates socket: per-user events, and the state of active operations on connect."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from semantik.operations.selectors import operations_active_for_user
from semantik.operations.services import operation_state
from semantik.realtime.auth import SUBPROTOCOL
from semantik.realtime.events import make_event, user_group

# Close codes in the private range, so clients can tell "log in again" from a network drop.
CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def _active_operations(user_id: int) -> list[dict[str, Any]]:
    return [dict(operation_state(o)) for o in operations_active_for_user(user_id)]


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept-then-close lets the client read the reason code; a rejected handshake cannot.
            await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in self.scope["subprotocols"] else None)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(subprotocol=SUBPROTOCOL)
        # Joining the group before reading the state means no event can fall between the two.
        await self.send_json(make_event("snapshot", {"operations": await _active_operations(user.pk)}))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json(make_event("pong", {}))

    async def semantik_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
