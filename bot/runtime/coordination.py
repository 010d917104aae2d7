"""What several workers must agree on: who works on a chat, how fast we may call Telegram, and
which worker runs a scheduled job.

One process (the default) needs no agreement: :class:`LocalCoordinator` hands out leases in
memory and limits with a moving window in memory (:class:`MovingWindow`). With
``HELPDESK_REDIS_URL`` set,
:class:`RedisCoordinator` keeps the same things in Redis, so any number of worker processes
(on one database, normally PostgreSQL) share the work:

* **Leases** (``SET NX PX`` with an owner token, via redis-py's ``Lock``): a chat's inbox updates
  and a chat's outbox calls are handled by one worker at a time. A lease expires on its own when
  its worker dies, so another worker takes the chat over; while the work runs, the lease is
  renewed in the background.
* **Rate limits**: the moving-window limiter of the ``limits`` package, stored in Redis, so the
  whole desk stays within Telegram's budget whatever the number of workers; the same windows
  count the REST API's requests per key (:meth:`Coordinator.admit`), so a key's limit is the
  desk's, not each worker's.
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
import math
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from fractions import Fraction
from types import TracebackType
from typing import Any, Protocol

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


class Lease:
    """A held lease. ``lost`` is set when it could not be renewed; :meth:`confirm` renews it
    right before an action that must not be done twice, and says whether it is still ours."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    async def confirm(self) -> bool:
        return not self.lost.is_set()


class Coordinator(Protocol):
    #: Whether other processes share the work (then fresh reads under a lease are needed).
    shared: bool
    #: What this coordinator raises when its store is unreachable (work is then retried later).
    errors: tuple[type[Exception], ...]

    def lease(
        self, key: str, ttl: float = 30.0
    ) -> contextlib.AbstractAsyncContextManager[Lease | None]:
        """``async with lease(key) as held:`` ``held`` is ``None`` when another worker has it;
        otherwise the lease is kept (renewed) until the block ends."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Mark ``key`` as waiting for ``seconds`` (e.g. an update's retry back-off), for all
        workers."""
        ...

    async def paused(self, key: str) -> bool:
        """Whether ``key`` is still waiting (see :meth:`pause`)."""
        ...

    async def claim_once(self, key: str, ttl: float) -> bool:
        """True for exactly one caller per ``key`` within ``ttl`` seconds, across workers."""
        ...

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        """A limiter allowing ``rate`` calls per ``period`` seconds for ``key``."""
        ...

    async def admit(self, key: str, calls: int, seconds: int) -> int:
        """Count one request for ``key`` if fewer than ``calls`` were counted in the last
        ``seconds`` and return 0; otherwise count nothing and return the whole seconds until
        one more would fit (a ``Retry-After``)."""
        ...

    async def ping(self) -> None:
        """Raise if the shared store cannot be reached (start-up and health checks)."""
        ...

    async def close(self) -> None: ...


class LocalCoordinator:
    """One process: leases are a set of held keys, limits are moving windows in memory."""

    shared = False
    errors: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._claimed: dict[str, float] = {}
        self._paused: dict[str, float] = {}
        self._admitted: dict[str, deque[float]] = {}

    @contextlib.asynccontextmanager
    async def lease(self, key: str, ttl: float = 30.0) -> AsyncIterator[Lease | None]:
        if key in self._held:
            yield None
            return
        self._held.add(key)
        try:
            yield Lease()
        finally:
            self._held.discard(key)

    async def claim_once(self, key: str, ttl: float) -> bool:
        return _claim(self._claimed, key, ttl)

    async def pause(self, key: str, seconds: float) -> None:
        _claim(self._paused, key, seconds, force=True)

    async def paused(self, key: str) -> bool:
        return self._paused.get(key, -1.0) > time.monotonic()

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        return MovingWindow(rate, period)

    async def admit(self, key: str, calls: int, seconds: int) -> int:
        now = time.monotonic()
        recent = self._admitted.setdefault(key, deque())
        while recent and now - recent[0] >= seconds:
            recent.popleft()
        if len(recent) >= calls:
            return max(1, math.ceil(seconds - (now - recent[0])))
        recent.append(now)
        return 0

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _claim(table: dict[str, float], key: str, ttl: float, *, force: bool = False) -> bool:
    now = time.monotonic()
    if not force and table.get(key, -1.0) > now:
        return False
    if len(table) > 10_000:
        for stale in [k for k, until in table.items() if until <= now]:
            del table[stale]
    table[key] = now + ttl
    return True


class RedisCoordinator:
    """Several processes: leases, claims and rate limits live in Redis under ``prefix``."""

    shared = True

    def __init__(self, url: str, *, prefix: str = "helpdesk", worker: str = "") -> None:
        # Imported here: one process on SQLite never needs a Redis client.
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
        from redis.exceptions import RedisError

        from bot.runtime.redis_client import BoundedRedis

        self.errors: tuple[type[Exception], ...] = (RedisError,)

        # A Redis that stops answering must not hang every lease and limiter call: each
        # command is bounded (``bot.runtime.redis_client``), not by ``socket_timeout``.
        # (Any: redis-py types its commands for both clients, ``Awaitable[T] | T``.)
        self.redis: Any = BoundedRedis.from_url(url, socket_timeout=None, socket_connect_timeout=5)
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
    async def lease(self, key: str, ttl: float = 30.0) -> AsyncIterator[Lease | None]:
        from redis.exceptions import RedisError

        lock = self.redis.lock(
            self._key(f"lease:{key}"), timeout=ttl, blocking=False, raise_on_release_error=False
        )
        try:
            acquired = await lock.acquire(token=f"{self.worker}:{uuid.uuid4().hex}")
        except RedisError as exc:  # Redis unreachable: nobody can be sure; do nothing for now
            log.warning("lease unavailable", key=key, error=str(exc))
            acquired = False
        if not acquired:
            yield None
            return
        lease = RedisLease(lock, ttl)
        renewer = asyncio.create_task(lease.keep())
        try:
            yield lease
        finally:
            # Never swallow a cancellation of our own caller here (suppressing CancelledError
            # around ``await renewer`` would): the caller must stop when it is told to.
            renewer.cancel()
            try:
                with contextlib.suppress(Exception):  # expired or Redis gone: it lapses alone
                    await lock.release()
            finally:
                await asyncio.gather(renewer, return_exceptions=True)

    async def pause(self, key: str, seconds: float) -> None:
        milliseconds = max(1, int(seconds * 1000))
        await self.redis.set(self._key(f"pause:{key}"), self.worker, px=milliseconds)

    async def paused(self, key: str) -> bool:
        return bool(await self.redis.exists(self._key(f"pause:{key}")))

    async def claim_once(self, key: str, ttl: float) -> bool:
        key = self._key(f"once:{key}")
        return bool(await self.redis.set(key, self.worker, nx=True, px=int(ttl * 1000)))

    def limiter(self, key: str, rate: float, period: float) -> Limiter:
        return RedisLimiter(self, key, rate, period)

    async def admit(self, key: str, calls: int, seconds: int) -> int:
        from limits import RateLimitItemPerSecond

        from bot.runtime.redis_client import within_timeout

        # The limits package's own client: bounded here, call by call.

        item = RateLimitItemPerSecond(calls, seconds)
        if await within_timeout(self._strategy.hit(item, key)):
            return 0
        stats = await within_timeout(self._strategy.get_window_stats(item, key))
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def close(self) -> None:
        await self.redis.aclose()
        # The limiter's own client (limits keeps it on its redis-py bridge).
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


class RedisLease(Lease):
    """A redis-py ``Lock`` kept alive in the background while its holder works."""

    def __init__(self, lock: Any, ttl: float) -> None:
        super().__init__()
        self.lock = lock
        self.ttl = ttl
        self._valid_until = time.monotonic() + ttl

    async def keep(self) -> None:
        """Renew every third of the TTL; a failed renewal is retried until the lease would
        have lapsed anyway, and only then is the lease reported lost."""
        from redis.exceptions import LockError, RedisError

        while not self.lost.is_set():
            await asyncio.sleep(self.ttl / 3)
            while True:
                try:
                    await self._renew()
                    break
                except LockError as exc:  # someone else has it now
                    self._lose(str(exc))
                    return
                except RedisError as exc:
                    if time.monotonic() >= self._valid_until:
                        self._lose(str(exc))
                        return
                    await asyncio.sleep(min(1.0, self.ttl / 10))

    async def _renew(self) -> None:
        started = time.monotonic()
        await self.lock.reacquire()
        self._valid_until = started + self.ttl

    def _lose(self, why: str) -> None:
        log.warning("lease lost", key=str(self.lock.name), error=why)
        self.lost.set()

    async def confirm(self) -> bool:
        """Renew now: on success this worker holds the lease for a full TTL from here."""
        from redis.exceptions import LockError, RedisError

        if self.lost.is_set():
            return False
        try:
            await self._renew()
        except (LockError, RedisError) as exc:
            self._lose(str(exc))
            return False
        return True


def whole_window(rate: float, period: float) -> tuple[int, int]:
    """``rate`` calls per ``period`` seconds as whole calls per whole seconds: 1.5 per second
    becomes 3 per 2 s, 0.7 per second 7 per 10 s (the budget itself, never rounded up)."""
    share = Fraction(rate).limit_denominator(1000)
    if share <= 0:
        share = Fraction(1, 1000)
    return share.numerator, max(1, math.ceil(share.denominator * period - 1e-9))


class MovingWindow:
    """At most ``rate`` calls in any ``period`` seconds, in one process: what Telegram counts.

    A call holds its place in the window from when it starts until it has finished: Telegram
    counts a request when it arrives, which is somewhere in between, so the window never lets a
    call arrive before the one it replaces has aged out there too. (A leaky bucket, as in
    aiolimiter, lets a full bucket through at once and keeps draining, so one window could see
    twice the budget; the ``limits`` package's moving window, used with Redis, costs ~14 MB to
    import in a process that needs no Redis.) Waiters go in turn.
    """

    def __init__(self, rate: float, period: float) -> None:
        self.calls, self.seconds = whole_window(rate, period)
        #: When each call in the window started, then (once it is done) finished.
        self._stamps: deque[list[float]] = deque()
        self._held: dict[asyncio.Task[Any] | None, list[list[float]]] = {}
        self._turn = asyncio.Lock()

    async def __aenter__(self) -> None:
        async with self._turn:
            while len(self._stamps) >= self.calls:
                wait = self._stamps[0][0] + self.seconds - time.monotonic()
                if wait <= 0:
                    self._stamps.popleft()
                else:
                    await asyncio.sleep(min(wait, 1.0))  # a finishing call moves its stamp
            stamp = [time.monotonic()]
            self._stamps.append(stamp)
            self._held.setdefault(asyncio.current_task(), []).append(stamp)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = asyncio.current_task()
        held = self._held.get(task)
        if held:
            held.pop()[0] = time.monotonic()
            if not held:
                del self._held[task]


#: Takes a place in a moving window (a sorted set of call stamps, in Redis's own clock so every
#: worker agrees): 0 when taken, else the milliseconds until the oldest place ages out.
_WINDOW_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], period * 2 + 60000)
    return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + period - now)
"""

#: A finished call moves its stamp to now (if its place is still there).
_WINDOW_EXIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
"""


class RedisLimiter:
    """A moving window of ``rate`` calls per ``period`` seconds, shared through Redis.

    The same rule as :class:`MovingWindow`, for every worker at once: a call holds its place
    from when it starts until it has finished (Telegram counts it on arrival, somewhere in
    between), so a call never arrives before the one it replaces has aged out there too. With
    several workers, one worker's call may start while another's is still on the wire: stamping
    only the start would let the next call arrive a few milliseconds early, and Telegram
    answers 429.
    """

    def __init__(self, owner: RedisCoordinator, key: str, rate: float, period: float) -> None:
        calls, seconds = whole_window(rate, period)
        self.owner = owner
        self.key = owner._key(f"window:{key}")
        self.args = (seconds * 1000, calls)
        self._held: dict[asyncio.Task[Any] | None, list[str]] = {}

    async def __aenter__(self) -> None:
        member = uuid.uuid4().hex
        while True:
            wait = int(await self.owner.redis.eval(_WINDOW_ENTER, 1, self.key, *self.args, member))
            if wait == 0:
                break
            await asyncio.sleep(min(wait / 1000, 1.0))  # a finishing call moves its stamp
        self._held.setdefault(asyncio.current_task(), []).append(member)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = asyncio.current_task()
        held = self._held.get(task)
        if not held:
            return
        member = held.pop()
        if not held:
            del self._held[task]
        try:
            await self.owner.redis.eval(_WINDOW_EXIT, 1, self.key, member)
        except self.owner.errors as exc:  # the stamp stays at the start: it ages out earlier
            log.warning("rate window not moved", key=self.key, error=str(exc))


def make_coordinator(redis_url: str | None, *, prefix: str, worker: str) -> Coordinator:
    if redis_url is None:
        return LocalCoordinator()
    return RedisCoordinator(redis_url, prefix=prefix, worker=worker)
