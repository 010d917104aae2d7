"""The long-running parts of the bot: intake, inbox processor, outbox sender."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import BaseModel


async def wait_event(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of an API object (aiogram's ``Default`` placeholders dropped)."""
    if isinstance(value, BaseModel):
        return value.model_dump(
            mode="json", exclude_none=True, fallback=lambda _value: None, warnings=False
        )
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value
