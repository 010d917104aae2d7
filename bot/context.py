"""What a handler works with, in one typed argument: ``ctx: HandlerContext``.

``bot.middlewares.context`` builds it once per handled message, edit or button press, from
the update's unit of work, the presenter and the clock (``workflow_data``) and from who sent
the event and where (aiogram's event context). A handler then only parses its arguments,
calls the use case and tells: ``await ctx.say(lines)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.adapters.presenter import Presenter
from bot.services import customers
from bot.services.ports import AbstractUnitOfWork, Clock, TelegramUser
from models.delivery import OutboundCall


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """The update's unit of work, the presenter and the clock; the sender (``None`` for an
    event without one) and the chat and topic the event happened in (where answers go)."""

    uow: AbstractUnitOfWork
    presenter: Presenter
    clock: Clock
    sender: TelegramUser | None
    chat: int | None
    thread: int | None = None

    @property
    def actor(self) -> TelegramUser:
        """The sender; messages and button presses always have one."""
        assert self.sender is not None, "an event with a sender"
        return self.sender

    @property
    def place(self) -> tuple[int, int | None]:
        """The chat and, in a forum topic, the topic: where to answer."""
        assert self.chat is not None, "an event in a chat"
        return self.chat, self.thread

    def now(self) -> datetime:
        return self.clock.now()

    async def tell(self, calls: list[OutboundCall]) -> None:
        """Queue the answer to what was just done (or to nothing) and commit."""
        await customers.tell(self.uow, calls, self.clock.now())

    async def say(self, lines: list[str]) -> None:
        """Lines of HTML, answered where the event happened."""
        await self.tell(self.presenter.said(*self.place, lines))
