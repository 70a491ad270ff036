"""The one event envelope, `{type, ts, data}`, and the functions that send events to sockets.

Events about a collection go to one channel group per collection; a socket is in that group only
while its user may read the collection (checked when it subscribes, and again whenever access to
the collection changes). Each user also has a group of their own, which carries only the notice
that their access to some collection changed, never an event about a collection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EventType = Literal[
    "snapshot",
    "pong",
    "error",
    "unsubscribed",
    "operation.started",
    "operation.progress",
    "operation.completed",
    "operation.failed",
    "operation.cancelled",
    "document.processed",
    "document.failed",
    "collection.updated",
    "collection.deleted",
]


class Event(TypedDict):
    type: EventType
    ts: str
    data: dict[str, Any]


def collection_group(collection_id: UUID | str) -> str:
    return f"collection.{collection_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def make_event(event_type: EventType, data: dict[str, Any]) -> Event:
    return {"type": event_type, "ts": datetime.now(UTC).isoformat(), "data": data}


def _send(group: str, message: dict[str, Any]) -> None:
    """Events are a live view of state that PostgreSQL keeps durably: losing one to a Redis hiccup
    must not fail the work it reports on, and a reconnecting client gets the state again."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - any transport failure is logged, not propagated
        logger.warning("Could not send %s to %s", message.get("type"), group, exc_info=True)


def publish(
    collection_id: UUID | str,
    event_type: EventType,
    data: dict[str, Any],
    *,
    operation_id: UUID | str | None = None,
) -> None:
    """Send an event to the sockets subscribed to the collection (or to `operation_id`). Never raises."""
    _send(
        collection_group(collection_id),
        {
            "type": "semantik.event",
            "collection_id": str(collection_id),
            "operation_id": str(operation_id) if operation_id else None,
            "event": make_event(event_type, data),
        },
    )


def access_changed(
    collection_id: UUID | str, *, user_ids: Iterable[int] = (), everyone: bool = False
) -> None:
    """Have sockets check their user's access to the collection again: those of `user_ids`, or
    (`everyone`) every socket subscribed to it. Call it once the change is committed."""
    message = {"type": "semantik.access", "collection_id": str(collection_id)}
    for user_id in set(user_ids):
        _send(user_group(user_id), message)
    if everyone:
        _send(collection_group(collection_id), message)
