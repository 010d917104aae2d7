"""redis-py's asyncio client with every command bounded in time by the bot (imported only
when ``HELPDESK_REDIS_URL`` is set).

Not by redis-py's own ``socket_timeout``: it bounds a write with ``asyncio.wait_for``, which on
Python 3.11 loses a cancellation that comes as the write finishes (a stopping worker's delivery
then went on waiting for its budget). ``asyncio.timeout`` keeps it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError

#: How long one Redis call may take before it counts as failed (Redis is not answering).
REDIS_TIMEOUT = 5.0


async def within_timeout(awaitable: Awaitable[Any]) -> Any:
    """``await awaitable`` (a Redis call), failing with a ``RedisError`` after
    :data:`REDIS_TIMEOUT` seconds without an answer."""
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            return await awaitable
    except TimeoutError:
        raise RedisTimeoutError(f"no answer from Redis in {REDIS_TIMEOUT:g} s") from None


class BoundedRedis(Redis):
    """Every command (leases' scripts included) bounded by :func:`within_timeout`."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await within_timeout(super().execute_command(*args, **options))
