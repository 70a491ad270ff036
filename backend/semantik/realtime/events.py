"""The one event envelope, `{type, ts, data}`, and the one function that publishes it to a user."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EventType = Literal[
    "snapshot",
    "pong",
    "operation.started",
    "operation.progress",
    "operation.completed",
    "operation.failed",
    "operation.cancelled",
    "document.processed",
    "document.failed",
]


class Event(TypedDict):
    type: EventType
    ts: str
    data: dict[str, Any]


def user_group(user_id: int) -> str:
    """Events go to one group per user, so no socket ever receives another user's events."""
    return f"user.{user_id}"


def make_event(event_type: EventType, data: dict[str, Any]) -> Event:
    return {"type": event_type, "ts": datetime.now(UTC).isoformat(), "data": data}


def publish(user_id: int | None, event_type: EventType, data: dict[str, Any]) -> None:
    """Send an event to every socket of the user. Never raises.

    Events are a live view of state that PostgreSQL keeps durably; losing one to a Redis hiccup
    must not fail the work it reports on, and a reconnecting client gets the state again.
    """
    if user_id is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "semantik.event", "event": make_event(event_type, data)}
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # noqa: BLE001 - any transport failure is logged, not propagated
        logger.warning("Could not publish %s to user %s", event_type, user_id, exc_info=True)
