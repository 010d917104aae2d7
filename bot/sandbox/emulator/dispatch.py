"""Running a Bot API call on the world, in-process or for the HTTP front end."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.faults import _ERROR_FAULTS, FaultsMixin
from bot.sandbox.emulator.world import ApiError, Outcome, RecordedCall

logger = logging.getLogger(__name__)


# Methods that only read the world: they leave ``revision`` alone.
_READ_ONLY = frozenset(
    {
        "getme",
        "getupdates",
        "getwebhookinfo",
        "getchat",
        "getchatmember",
        "getchatadministrators",
        "getmycommands",
        "getfile",
    }
)


class DispatchMixin(FaultsMixin):
    """Running one call: token check, faults, rate limits, the method, the record."""

    async def handle(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one Bot API method on the world (no faults, no rate limits); records the call."""
        call = self._record(method, dict(params), "direct")
        payload: dict[str, Any] | None = None
        try:
            payload = await self._dispatch(method, call.params)
            return payload
        finally:
            self._finish(call, payload)

    async def process(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        token: str | None = None,
        transport: str = "inprocess",
    ) -> Outcome:
        """Run a call the way the HTTP front end does: token check, faults, rate limits.

        The caller performs ``Outcome.delay`` and ``Outcome.drop``; the action itself (if
        any) has already happened when this returns.
        """
        call = self._record(method, dict(params), transport)
        outcome: Outcome | None = None
        try:
            outcome = await self._process(method, call, token)
            return outcome
        finally:
            if outcome is not None:
                call.fault = outcome.fault
                call.status = outcome.status or None
            self._finish(call, outcome.payload if outcome is not None else None)

    async def _process(self, method: str, call: RecordedCall, token: str | None) -> Outcome:
        if self.token is not None and token is not None and token != self.token:
            return Outcome(401, ApiError(401, "Unauthorized").payload())
        lowered = method.lower()
        fault = self._pick_fault(lowered, call.params)
        if fault is not None and fault.kind in _ERROR_FAULTS:
            return self._fault_outcome(fault)
        if fault is not None and fault.kind == "drop":
            return Outcome(0, drop=True, fault=fault.kind)
        retry_after = self._rate_limited(lowered, call.params)
        if retry_after is not None:
            return self._too_many_requests(retry_after, "rate_limit")
        payload = await self._dispatch(method, call.params)
        self._count_rate(lowered, call.params, payload)
        status = 200 if payload.get("ok") else int(payload["error_code"])
        outcome = Outcome(status, payload)
        if fault is not None:
            outcome.fault = fault.kind
            outcome.delay = fault.delay if fault.kind in ("timeout", "slow") else 0.0
            outcome.drop = fault.kind == "drop_after"
        return outcome

    def _record(self, method: str, params: dict[str, Any], transport: str) -> RecordedCall:
        call = RecordedCall(method, params, time.time(), time.monotonic(), transport)
        self.calls.append(call)
        return call

    def _finish(self, call: RecordedCall, payload: dict[str, Any] | None) -> None:
        if payload is not None and payload.get("ok") and call.method.lower() not in _READ_ONLY:
            self._changed()
        call.response = payload
        if payload is not None and call.status is None:
            call.status = 200 if payload.get("ok") else payload.get("error_code")
        call.finished = True

    async def _dispatch(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = self._methods.get(method.lower())
        if handler is None:
            return ApiError(404, "Not Found: method not found").payload()
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return error.payload()
        except Exception as error:
            # An emulator bug must not look like a bot bug: answer 500 and keep the traceback.
            logger.exception("emulator failed on %s %s", method, params)
            self.internal_errors.append(f"{method}: {traceback.format_exc()}")
            return ApiError(500, f"Internal Server Error: emulator bug: {error!r}").payload()
        return {"ok": True, "result": result}
