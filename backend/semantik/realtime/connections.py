"""Per-user WebSocket connection slots, counted in Redis so that every web process shares the count.

Each open socket holds a slot: a member of a sorted set per user whose score is the time it
expires. A live socket pushes its expiry forward every SLOT_REFRESH_S; a server that crashes
stops doing so, and its slots are dropped once expired, so no slot leaks.
"""

from __future__ import annotations

import time

from django.conf import settings
from redis.asyncio import Redis

SLOT_TTL_S = 60
SLOT_REFRESH_S = SLOT_TTL_S / 3

# Atomic: drop expired slots, refuse when the user holds `limit` others, else take (or renew) one.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def slots_key(user_id: int) -> str:
    return f"{settings.INSTANCE_NAME}:ws:connections:{user_id}"


def _client() -> Redis:
    # One short-lived client per call: slots are taken and released once per socket, renewed every
    # 20 s, and a client bound to one event loop must not outlive it.
    return Redis.from_url(settings.REDIS_URL)


async def slot_acquire(user_id: int, channel_name: str) -> bool:
    """Take (or renew) the socket's slot; False when the user already holds the maximum."""
    now = time.time()
    async with _client() as redis:
        taken = await redis.eval(  # type: ignore[misc]
            _ACQUIRE,
            1,
            slots_key(user_id),
            channel_name,
            now,
            now + SLOT_TTL_S,
            settings.WS_MAX_CONNECTIONS_PER_USER,
            SLOT_TTL_S * 2,
        )
    return bool(taken)


async def slot_release(user_id: int, channel_name: str) -> None:
    async with _client() as redis:
        await redis.zrem(slots_key(user_id), channel_name)
