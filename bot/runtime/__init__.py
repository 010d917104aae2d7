"""The long-running parts of the bot: intake, inbox processor, outbox sender."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import BaseModel


async def wait_event(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, whichever comes first.

    ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11, ``wait_for`` can swallow a
    cancellation that arrives as the event is set, and a worker would then not stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        # We were told to stop, but something on the way (a library awaiting inside its own
        # cleanup) swallowed the CancelledError: stop here rather than wait and loop on.
        raise asyncio.CancelledError
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of an API object (aiogram's ``Default`` placeholders dropped)."""
    if isinstance(value, BaseModel):
        return value.model_dump(
            mode="json", exclude_none=True, fallback=lambda _value: None, warnings=False
        )
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value
