"""The live-updates socket: subscriptions to collections and operations the user may read, their
events, and the state of their active operations whenever a subscription starts."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from semantik.collections.selectors import (
    MEMBER_ROLES,
    collection_ids_followed_by,
    collection_ids_readable_among,
    collection_role,
)
from semantik.operations.selectors import operations_active_in, operations_get_many, operations_readable_among
from semantik.operations.services import operation_state
from semantik.realtime.auth import SUBPROTOCOL
from semantik.realtime.connections import SLOT_REFRESH_S, slot_acquire, slot_release
from semantik.realtime.events import EventType, collection_group, make_event, user_group

logger = logging.getLogger(__name__)

# Close codes in the private range, so clients can tell "log in again" from a network drop.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY_CONNECTIONS = 4429
# Ids per subscribe or unsubscribe message.
MAX_IDS = 1000
# While Redis is away a socket tries to get its subscriptions back this often (doubling up to the cap).
RECONNECT_FIRST_S, RECONNECT_MAX_S = 0.2, 5.0


@database_sync_to_async
def _followed(user_id: int) -> list[str]:
    return collection_ids_followed_by(user_id)


@database_sync_to_async
def _readable_collections(user_id: int, ids: list[str]) -> list[str]:
    found = collection_ids_readable_among(user_id, [i for i in ids if _is_uuid(i)])
    return [i for i in ids if i in found]


@database_sync_to_async
def _readable_operations(user_id: int, ids: list[str]) -> dict[str, str]:
    return operations_readable_among(user_id, [i for i in ids if _is_uuid(i)])


@database_sync_to_async
def _role(user_id: int, collection_id: str) -> str | None:
    return collection_role(user_id, collection_id)


@database_sync_to_async
def _states(collection_ids: list[str], operation_ids: list[str]) -> list[dict[str, Any]]:
    """Active operations of the collections, and the operations asked for by id whatever their state."""
    operations = {o.pk: o for o in operations_active_in(collection_ids)}
    operations.update({o.pk: o for o in operations_get_many(operation_ids)})
    ordered = sorted(operations.values(), key=lambda o: o.created_at)
    return [dict(operation_state(o)) for o in ordered]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _ids(value: Any) -> list[str] | None:
    """A list of id strings (deduplicated, in order), or None when `value` is not one."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(isinstance(v, str) for v in value):
        return None
    return list(dict.fromkeys(value))


class _LayerThatOutlivesRedis:
    """The channel layer as one socket sees it: its receive waits out a Redis outage instead of
    ending the socket.

    Once Redis answers again, `recovered` puts the socket's groups back (a restarted Redis may
    have lost them), and receive returns a `semantik.recovered` message: the socket then sends the
    current state, since events sent meanwhile are gone. Everything else is the real layer's.
    """

    def __init__(self, layer: Any, recovered: Any) -> None:
        self._layer = layer
        self._recovered = recovered

    def __getattr__(self, name: str) -> Any:
        return getattr(self._layer, name)

    async def receive(self, channel: str) -> dict[str, Any]:
        delay, lost = RECONNECT_FIRST_S, False
        while True:
            try:
                if lost:
                    await self._recovered()
                    return {"type": "semantik.recovered"}
                return dict(await self._layer.receive(channel))
            except (RedisError, OSError) as exc:
                if not lost:
                    logger.warning("Live updates lost Redis (%s); the socket stays open and waits", exc)
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """One socket. On connect it follows the collections its user owns or that are shared with them
    (and those created or shared later), until the client sends `unsubscribe` with `all`."""

    user_id: int
    holds_slot = False
    _layer: Any = None

    # Set by channels' consumer when the socket opens; wrapped so a Redis restart does not end it.
    @property
    def channel_layer(self) -> Any:
        return self._layer

    @channel_layer.setter
    def channel_layer(self, layer: Any) -> None:
        self._layer = None if layer is None else _LayerThatOutlivesRedis(layer, self._rejoin)

    async def connect(self) -> None:
        user = self.scope.get("user")
        offered = SUBPROTOCOL if SUBPROTOCOL in self.scope["subprotocols"] else None
        if user is None or not user.is_authenticated:
            # Accept-then-close lets the client read the reason code; a rejected handshake cannot.
            await self.accept(subprotocol=offered)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        if not await slot_acquire(self.user_id, self.channel_name):
            await self.accept(subprotocol=SUBPROTOCOL)
            await self.close(code=CLOSE_TOO_MANY_CONNECTIONS)
            return
        self.holds_slot = True
        self.following = True
        self.collections: set[str] = set()
        self.operations: dict[str, str] = {}  # operation id → its collection id
        self.excluded: set[str] = set()  # left by the client: following does not bring them back
        self.groups: set[str] = set()
        await self._join({user_group(self.user_id)})
        await self.accept(subprotocol=SUBPROTOCOL)
        self.keepalive = asyncio.create_task(self._keep_alive())
        await self._subscribe(await _followed(self.user_id), [])

    async def disconnect(self, code: int) -> None:
        if not self.holds_slot:
            return
        if keepalive := getattr(self, "keepalive", None):
            keepalive.cancel()
        try:
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
            await slot_release(self.user_id, self.channel_name)
        except (RedisError, OSError) as exc:
            # Redis is down: its group entries and the slot expire on their own.
            logger.warning("Could not leave the socket's groups: %s", exc)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Not JSON: answered with an error below instead of ending the connection.
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self._send("pong", {})
        elif kind in ("subscribe", "unsubscribe"):
            collections, operations = _ids(content.get("collections")), _ids(content.get("operations"))
            if collections is None or operations is None:
                await self._error(
                    "invalid", f"'collections' and 'operations' are lists of at most {MAX_IDS} ids."
                )
            elif kind == "subscribe":
                if content.get("all") is True:
                    self.following = True
                    self.excluded.clear()
                    collections += await _followed(self.user_id)
                await self._subscribe(collections, operations)
            else:
                await self._unsubscribe(collections, operations, everything=content.get("all") is True)
        else:
            await self._error(
                "invalid",
                "Messages are {type: ping | subscribe | unsubscribe, collections?, operations?, all?}.",
            )

    async def semantik_event(self, message: dict[str, Any]) -> None:
        if message["collection_id"] in self.collections or message.get("operation_id") in self.operations:
            await self.send_json(message["event"])

    async def semantik_recovered(self, message: dict[str, Any]) -> None:
        """Redis is back: the state of what the socket follows, in place of the events it missed."""
        if not self.holds_slot:
            return
        states = await _states(sorted(self.collections), list(self.operations))
        await self._send("snapshot", {"collections": sorted(self.collections), "operations": states})

    async def _rejoin(self) -> None:
        """Take the slot and join every group again (raises while Redis is still down)."""
        if not self.holds_slot:
            return
        await slot_acquire(self.user_id, self.channel_name)
        for group in self.groups:
            await self._layer.group_add(group, self.channel_name)

    async def semantik_access(self, message: dict[str, Any]) -> None:
        """Access to a collection changed: leave it if the user lost it, follow it if they gained it."""
        collection_id = message["collection_id"]
        role = await _role(self.user_id, collection_id)
        if role is None:
            gone = [collection_id] if collection_id in self.collections else []
            lost = [o for o, c in self.operations.items() if c == collection_id]
            if gone or lost:
                self.collections.discard(collection_id)
                for operation_id in lost:
                    del self.operations[operation_id]
                await self._sync_groups()
                await self._send(
                    "unsubscribed", {"collections": gone, "operations": lost, "reason": "access_revoked"}
                )
        elif (
            self.following
            and role in MEMBER_ROLES
            and collection_id not in self.collections
            and collection_id not in self.excluded
        ):
            await self._subscribe([collection_id], [])

    async def _subscribe(self, collection_ids: list[str], operation_ids: list[str]) -> None:
        """Subscribe to what the user may read, refuse the rest (without saying whether it exists),
        and send the state of the active operations of what was subscribed."""
        collections = await _readable_collections(self.user_id, collection_ids)
        operations = await _readable_operations(self.user_id, operation_ids)
        self.collections.update(collections)
        self.excluded.difference_update(collections)
        self.operations.update(operations)
        # Joining the groups before reading the state means no event can fall between the two.
        await self._sync_groups()
        refused_collections = [i for i in collection_ids if i not in set(collections)]
        refused_operations = [i for i in operation_ids if i not in operations]
        if refused_collections or refused_operations:
            await self._error(
                "not_found",
                "Not found, or not yours to see.",
                collections=refused_collections,
                operations=refused_operations,
            )
        states = await _states(collections, list(operations))
        await self._send("snapshot", {"collections": collections, "operations": states})

    async def _unsubscribe(
        self, collection_ids: list[str], operation_ids: list[str], *, everything: bool
    ) -> None:
        if everything:
            self.following = False
            collection_ids, operation_ids = sorted(self.collections), sorted(self.operations)
        left = [i for i in collection_ids if i in self.collections]
        self.collections.difference_update(collection_ids)
        self.excluded.update(collection_ids)
        for operation_id in operation_ids:
            self.operations.pop(operation_id, None)
        await self._sync_groups()
        await self._send(
            "unsubscribed", {"collections": left, "operations": operation_ids, "reason": "request"}
        )

    async def _sync_groups(self) -> None:
        wanted = {user_group(self.user_id)}
        wanted |= {collection_group(c) for c in (*self.collections, *self.operations.values())}
        for group in self.groups - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._join(wanted - self.groups)
        self.groups = wanted

    async def _join(self, groups: set[str]) -> None:
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups |= groups

    async def _keep_alive(self) -> None:
        """Renew the connection slot, and the group memberships (channels-redis expires them after a day)."""
        while True:
            await asyncio.sleep(SLOT_REFRESH_S)
            try:
                await slot_acquire(self.user_id, self.channel_name)
                for group in list(self.groups):
                    await self.channel_layer.group_add(group, self.channel_name)
            except Exception:  # noqa: BLE001 - Redis down: try again next time, keep the socket
                logger.warning("Could not renew the socket's slot and groups", exc_info=True)

    async def _send(self, event_type: EventType, data: dict[str, Any]) -> None:
        await self.send_json(make_event(event_type, data))

    async def _error(self, code: str, message: str, **details: Any) -> None:
        await self._send("error", {"code": code, "message": message, **details})
