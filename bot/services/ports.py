"""Ports: what the use cases need from the outside world, as protocols (no aiogram here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from models import Customer
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


UowFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class TelegramUser:
    """The sender of an update, as the use cases need it."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class Presenter(Protocol):
    """Turns what happened into the Telegram calls that tell people about it.

    Implementations render texts in the recipient's language and build keyboards; the use cases
    put the returned calls into the outbox in the same transaction as the change itself.
    """

    def welcome(self, customer: Customer) -> list[OutboundCall]: ...

    def help(self, customer: Customer) -> list[OutboundCall]: ...
