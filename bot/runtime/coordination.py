"""What several workers must agree on: who works on a chat, how fast we may call Telegram, and
which worker runs a scheduled job.

One process (the default) needs no agreement: :class:`LocalCoordinator` hands out leases in
memory and limits with :mod:`aiolimiter`. With ``HELPDESK_REDIS_URL`` set,
:class:`RedisCoordinator` keeps the same things in Redis, so any number of worker processes
(on one database, normally PostgreSQL) share the work:

* **Leases** (``SET NX PX`` with an owner token, via redis-py's ``Lock``): a chat's inbox updates
  and a chat's outbox calls are handled by one worker at a time. A lease expires on its own when
  its worker dies, so another worker takes the chat over; while the work runs, the lease is
  renewed in the background.
* **Rate limits**: the moving-window limiter of the ``limits`` package, stored in Redis, so the
  whole desk stays within Telegram's budget whatever the number of workers.
* **Job runs**: a scheduled job's occurrence is claimed by ``SET NX`` on a key naming it (e.g.
  ``job:sla-scan:<slot>``); the first worker to claim it runs it, the others skip it.

Leases are an efficiency and ordering device, not the last line of defence: an update is marked
processed in the transaction that applies it (only if it is still pending), and a call is re-read
under its chat's lease before it is sent, so a lease lost to a long pause cannot apply an update
twice or send a call that another worker has already sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol

from aiolimiter import AsyncLimiter

from bot.logs import get_logger

log = get_logger(__name__)


class Limiter(Protocol):
    """``async with limiter:`` waits until one more call fits the budget."""

    async def __aenter__(self) -> None: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Coordinator(Protocol):
    #: Whether other processes share the work (then fresh reads under a lease are needed).
    shared: bool

    def lease(self, key: str, ttl: float = 30.0) -> contextlib.AbstractAsyncContextManager[bool]:
        """``async with lease(key) as held:`` ``held`` tells whether this worker got it; when
        it did, the lease is kept (renewed) until the block ends."""
        ...

    async def claim_once(self, key: str, ttl: float) -> bool:
        """True for exactly one caller per ``key`` within ``ttl`` seconds, across workers."""
        ...

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        """A limiter allowing ``rate`` calls per ``period`` seconds for ``key``."""
        ...

    async def ping(self) -> None:
        """Raise if the shared store cannot be reached (start-up and health checks)."""
        ...

    async def close(self) -> None: ...


class LocalCoordinator:
    """One process: leases are a set of held keys, limits are aiolimiter's leaky buckets."""

    shared = False

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._claimed: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def lease(self, key: str, ttl: float = 30.0) -> AsyncIterator[bool]:
        if key in self._held:
            yield False
            return
        self._held.add(key)
        try:
            yield True
        finally:
            self._held.discard(key)

    async def claim_once(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        if self._claimed.get(key, -1.0) > now:
            return False
        if len(self._claimed) > 10_000:
            self._claimed = {k: until for k, until in self._claimed.items() if until > now}
        self._claimed[key] = now + ttl
        return True

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        return AsyncLimiter(rate, period)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisCoordinator:
    """Several processes: leases, claims and rate limits live in Redis under ``prefix``."""

    shared = True

    def __init__(self, url: str, *, prefix: str = "helpdesk", worker: str = "") -> None:
        # Imported here: one process on SQLite never needs a Redis client.
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.prefix = prefix
        self.worker = worker or uuid.uuid4().hex
        self._storage = RedisStorage(url, implementation="redispy", key_prefix=f"{prefix}:rate")
        self._strategy = MovingWindowRateLimiter(self._storage)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def ping(self) -> None:
        """Fail early (at start-up) when Redis is not reachable."""
        await self.redis.ping()

    @contextlib.asynccontextmanager
    async def lease(self, key: str, ttl: float = 30.0) -> AsyncIterator[bool]:
        lock = self.redis.lock(
            self._key(f"lease:{key}"), timeout=ttl, blocking=False, raise_on_release_error=False
        )
        if not await lock.acquire(token=f"{self.worker}:{uuid.uuid4().hex}"):
            yield False
            return
        renewer = asyncio.create_task(self._renew(lock, ttl))
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            with contextlib.suppress(Exception):  # expired or Redis gone: it lapses on its own
                await lock.release()

    async def _renew(self, lock: object, ttl: float) -> None:
        from redis.asyncio.lock import Lock
        from redis.exceptions import LockError, RedisError

        assert isinstance(lock, Lock)
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await lock.reacquire()
            except (LockError, RedisError) as exc:  # lost it; the fresh reads keep us safe
                log.warning("lease lost", key=str(lock.name), error=str(exc))
                return

    async def claim_once(self, key: str, ttl: float) -> bool:
        key = self._key(f"once:{key}")
        return bool(await self.redis.set(key, self.worker, nx=True, px=int(ttl * 1000)))

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        return RedisLimiter(self, key, rate, period)

    async def close(self) -> None:
        await self.redis.aclose()
        # The limiter's own client (limits keeps it on its redis-py bridge).
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


class RedisLimiter:
    """A moving window of ``rate`` calls per ``period`` seconds, shared through Redis."""

    def __init__(self, owner: RedisCoordinator, key: str, rate: float, period: float) -> None:
        from limits import RateLimitItemPerSecond

        # limits counts whole calls per whole seconds: 0.5/s becomes 1 per 2 s.
        if rate >= 1:
            amount, seconds = round(rate), max(1, round(period))
        else:
            amount, seconds = 1, max(1, round(period / rate))
        self.item = RateLimitItemPerSecond(amount, seconds)
        self.owner = owner
        self.key = key

    async def __aenter__(self) -> None:
        strategy = self.owner._strategy
        while not await strategy.hit(self.item, self.key):
            stats = await strategy.get_window_stats(self.item, self.key)
            await asyncio.sleep(min(max(stats.reset_time - time.time(), 0.005), 5.0))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def make_coordinator(redis_url: str | None, *, prefix: str, worker: str) -> Coordinator:
    if redis_url is None:
        return LocalCoordinator()
    return RedisCoordinator(redis_url, prefix=prefix, worker=worker)
