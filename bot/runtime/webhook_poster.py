"""Posts webhook deliveries: signed JSON over HTTP, and what to do about each answer.

The :class:`~bot.runtime.sender.Sender` hands outbox rows with method ``webhook`` to
:meth:`WebhookPoster.post`; Telegram's rate limiters never apply to them.

* 2xx: delivered.
* 408, 425, 429, 5xx, network errors and timeouts: retried with exponential back-off and
  jitter (``Retry-After`` is respected when given), until ``max_age`` after the event or
  ``max_attempts``; then failed (``unknown`` when the last attempt timed out).
* Anything else (3xx, 4xx): failed at once. Redirects are not followed.

A timeout or a dropped connection has an unknown outcome: the receiver may have processed the
request. The delivery is retried with the same ``X-Helpdesk-Delivery`` id, so receivers dedupe
by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from models import webhooks as wh
from models.delivery import OutboundCall, OutboxStatus

USER_AGENT = "telegram-helpdesk-webhooks/1"
RETRYABLE = frozenset({408, 425, 429})
ERROR_BODY_MAX = 200


SIGNATURE_PREFIX = "sha256="
#: Receivers should refuse timestamps further than this from their clock (replay window).
REPLAY_WINDOW_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Helpdesk-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    message = str(timestamp).encode() + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    window: float = REPLAY_WINDOW_S,
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature (constant-time)."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > window:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: delivered, try again in ``retry_in`` s, or ``give_up``.
    ``status``: the server's answer code (HTTP, SMTP), when there was one."""

    error: str | None = None
    retry_in: float | None = None
    give_up: OutboxStatus | None = None
    status: int | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class WebhookPolicy:
    """How long and how often a delivery outside Telegram (a webhook, a mail) is retried."""

    timeout: float = 10.0
    max_age: timedelta = timedelta(hours=24)
    max_attempts: int = 25
    base_backoff: float = 2.0
    max_backoff: float = 3600.0

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt: doubling from ``base_backoff``, ±50 % jitter."""
        return min(self.max_backoff, self.base_backoff * 2**attempts) * random.uniform(0.5, 1.5)

    def after_transient(
        self, call: OutboundCall, error: str, after: float | None, status: int | None = None
    ) -> Outcome:
        """Retry later (in ``after`` s, if the server said), unless the delivery is out of
        attempts or would be too late; a last attempt that timed out ends ``unknown``."""
        delay = after if after is not None else self.backoff(call.attempts)
        now = datetime.now(UTC)
        deadline = (call.created_at or now) + self.max_age
        if call.attempts + 1 >= self.max_attempts or now + timedelta(seconds=delay) > deadline:
            unknown = "timeout" in error.lower() or "disconnected" in error.lower()
            status_ = OutboxStatus.UNKNOWN if unknown else OutboxStatus.FAILED
            return Outcome(error=f"gave up: {error}", give_up=status_, status=status)
        return Outcome(error=error, retry_in=delay, status=status)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


class WebhookPoster:
    def __init__(
        self, policy: WebhookPolicy | None = None, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.policy = policy or WebhookPolicy()
        self._session = session
        self._own_session = session is None
        self.sent_count = 0

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def post(self, endpoint: wh.Webhook, call: OutboundCall) -> Outcome:
        """One attempt at ``call`` (a row made by :func:`models.webhooks.delivery_call`)."""
        body = json.dumps(call.params["body"], ensure_ascii=False, separators=(",", ":"))
        raw = body.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Helpdesk-Event": str(call.params["event"]),
            "X-Helpdesk-Delivery": str(call.params["delivery"]),
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": sign(endpoint.secret, timestamp, raw),
        }
        try:
            async with self._client().post(
                endpoint.url, data=raw, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                # Only the start of the answer is kept (for /failed); a huge body is not read.
                head = await response.content.read(ERROR_BODY_MAX)
                text = head.decode(errors="replace")
                after = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        except TimeoutError:
            return self._transient(call, f"timeout after {self.policy.timeout:g} s", None)
        except aiohttp.ClientError as exc:
            return self._transient(call, f"{type(exc).__name__}: {exc}", None)
        if 200 <= status < 300:
            self.sent_count += 1
            return Outcome(status=status)
        error = f"HTTP {status} from {endpoint.url}" + (f": {text}" if text.strip() else "")
        if status in RETRYABLE or status >= 500:
            return self._transient(call, error, after, status)
        return Outcome(error=error, give_up=OutboxStatus.FAILED, status=status)

    def _transient(
        self, call: OutboundCall, error: str, after: float | None, status: int | None = None
    ) -> Outcome:
        return self.policy.after_transient(call, error, after, status)
