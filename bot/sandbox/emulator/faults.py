"""Fault injection and rate limits."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.world import (
    _SEND_METHODS,
    BLOCKED,
    ApiError,
    Fault,
    Outcome,
    RateLimits,
    forbidden,
)

FAULT_KINDS = frozenset(
    {"429", "500", "502_html", "timeout", "slow", "drop", "drop_after", "blocked", "bad_request"}
)
_ERROR_FAULTS = frozenset({"429", "500", "502_html", "blocked", "bad_request"})

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_RATE_COUNTED = frozenset(
    {
        "sendmessage",
        *_SEND_METHODS,
        "sendlocation",
        "sendcontact",
        "sendmediagroup",
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
    }
)

_RATE_COUNTED_EDITS = frozenset(
    {"editmessagetext", "editmessagecaption", "editmessagereplymarkup"}
)


class FaultsMixin(EmulatorState):
    """Faults the tests inject (429, 5xx, HTML bodies, slow or dropped answers) and
    Telegram's rate limits.
    """

    def inject_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        times: int | None = 1,
        retry_after: int = 1,
        delay: float = 3.0,
        description: str | None = None,
        chat_id: int | str | None = None,
    ) -> Fault:
        """Serve a fault to the next ``times`` matching calls.

        ``method=None`` matches every method except getUpdates. Kinds: "429", "500",
        "502_html", "blocked", "bad_request" answer without acting; "timeout"/"slow" act and
        answer ``delay`` seconds late; "drop" closes the connection without acting;
        "drop_after" acts, then closes the connection.
        """
        if kind not in FAULT_KINDS:
            msg = f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}"
            raise ValueError(msg)
        fault = Fault(kind, method, times, retry_after, delay, description, chat_id)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()
        self._random_faults = None

    def set_random_faults(
        self,
        rate: float,
        kinds: Sequence[str] = ("429", "500", "502_html", "timeout", "drop"),
        seed: int | None = 0,
        *,
        methods: Sequence[str] | None = None,
        include_get_updates: bool = False,
        retry_after: int = 1,
        delay: float = 2.0,
    ) -> None:
        """Fail a ``rate`` share of calls with a kind drawn from ``kinds`` (reproducible by seed).

        ``rate=0`` switches it off. getUpdates is spared unless ``include_get_updates``.
        """
        unknown = set(kinds) - FAULT_KINDS
        if unknown:
            msg = f"unknown fault kinds {sorted(unknown)}"
            raise ValueError(msg)
        self._rng = random.Random(seed)
        if rate <= 0:
            self._random_faults = None
            return
        self._random_faults = {
            "rate": rate,
            "kinds": tuple(kinds),
            "methods": {m.lower() for m in methods} if methods else None,
            "include_get_updates": include_get_updates,
            "retry_after": retry_after,
            "delay": delay,
        }

    def set_rate_limits(
        self,
        private_per_s: int | None = 1,
        group_per_min: int | None = 20,
        global_per_s: int | None = 30,
        *,
        count_edits: bool = True,
    ) -> None:
        """Answer 429 with ``retry_after`` like Telegram when sending exceeds these rates."""
        self._rate_limits = RateLimits(private_per_s, group_per_min, global_per_s, count_edits)
        self._rate_log.clear()

    def clear_rate_limits(self) -> None:
        self._rate_limits = None
        self._rate_log.clear()

    def _pick_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
                return fault
        chaos = self._random_faults
        if chaos is None:
            return None
        if method == "getupdates" and not chaos["include_get_updates"]:
            return None
        if chaos["methods"] is not None and method not in chaos["methods"]:
            return None
        if self._rng.random() >= chaos["rate"]:
            return None
        kind = self._rng.choice(chaos["kinds"])
        return Fault(kind, retry_after=chaos["retry_after"], delay=chaos["delay"], hits=1)

    def _fault_outcome(self, fault: Fault) -> Outcome:
        if fault.kind == "429":
            return self._too_many_requests(fault.retry_after, fault.kind)
        if fault.kind == "500":
            error = ApiError(500, fault.description or "Internal Server Error")
            return Outcome(500, error.payload(), fault=fault.kind)
        if fault.kind == "502_html":
            return Outcome(
                502, raw_body=BAD_GATEWAY_HTML, content_type="text/html", fault=fault.kind
            )
        if fault.kind == "blocked":
            return Outcome(403, forbidden(BLOCKED).payload(), fault=fault.kind)
        description = fault.description or "Bad Request: emulated fault"
        if not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return Outcome(400, ApiError(400, description).payload(), fault=fault.kind)

    def _too_many_requests(self, retry_after: int, fault: str) -> Outcome:
        self.served_429 += 1
        error = ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
        return Outcome(429, error.payload(), fault=fault)

    def _rate_limited(self, method: str, params: Mapping[str, Any]) -> int | None:
        limits = self._rate_limits
        if limits is None:
            return None
        counted = method in _RATE_COUNTED or (limits.count_edits and method in _RATE_COUNTED_EDITS)
        if not counted:
            return None
        chat_id = self._peek_chat_id(params)
        now = time.monotonic()
        while self._rate_log and now - self._rate_log[0][0] > 60:
            self._rate_log.popleft()
        waits = []
        windows: list[tuple[int | None, float, list[float]]] = [
            (limits.global_per_s, 1.0, [t for t, _ in self._rate_log if now - t < 1])
        ]
        if chat_id is not None:
            same_chat = [t for t, c in self._rate_log if c == chat_id]
            if chat_id > 0:
                windows.append((limits.private_per_s, 1.0, [t for t in same_chat if now - t < 1]))
            else:
                windows.append((limits.group_per_min, 60.0, same_chat))
        for limit, window, stamps in windows:
            if limit is not None and len(stamps) >= limit:
                waits.append(stamps[len(stamps) - limit] + window - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def _count_rate(self, method: str, params: Mapping[str, Any], payload: dict[str, Any]) -> None:
        if self._rate_limits is None or not payload.get("ok"):
            return
        if method not in _RATE_COUNTED and method not in _RATE_COUNTED_EDITS:
            return
        result = payload.get("result")
        sent = len(result) if isinstance(result, list) else 1
        chat_id = self._peek_chat_id(params)
        now = time.monotonic()
        self._rate_log.extend((now, chat_id) for _ in range(sent))

    def _peek_chat_id(self, params: Mapping[str, Any]) -> int | None:
        try:
            return int(params.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
