"""Queries and waits for tests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from typing import Any, Self

from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.world import RecordedCall, _is_service


class WaitsMixin(EmulatorState):
    """What tests ask of the world, and waits until it holds."""

    def calls_of(self, method: str) -> list[RecordedCall]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def chat(self, chat_id: int) -> dict[str, Any]:
        return copy.deepcopy(self._chat_state(chat_id).chat)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The current state of a message (deleted ones too, for post-mortems)."""
        return copy.deepcopy(self._chat_state(chat_id).messages[message_id])

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        return message_id in self._chat_state(chat_id).deleted

    def messages_in(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        from_bot: bool | None = None,
        include_service: bool = False,
    ) -> list[dict[str, Any]]:
        """Live messages of a chat in order; ``thread_id=None`` means every thread."""
        state = self._chat_state(chat_id)
        found = []
        for message_id in sorted(state.messages):
            message = state.live(message_id)
            if message is None:
                continue
            if thread_id is not None and message.get("message_thread_id") != thread_id:
                continue
            if from_bot is not None and (message["from"]["id"] == self.bot_id) != from_bot:
                continue
            if not include_service and _is_service(message):
                continue
            found.append(copy.deepcopy(message))
        return found

    def edits_of(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        """Earlier versions of a message, oldest first."""
        return copy.deepcopy(self._history.get((chat_id, message_id), []))

    def sent_reply_markup(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The markup the bot sent with a message, including reply keyboards Telegram hides."""
        return copy.deepcopy(self._sent_markup.get((chat_id, message_id)))

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The custom reply keyboard the person currently sees in this chat."""
        return copy.deepcopy(self._chat_state(chat_id).reply_keyboard)

    def pinned(self, chat_id: int) -> list[int]:
        return list(self._chat_state(chat_id).pinned)

    def topics(self, chat_id: int) -> list[dict[str, Any]]:
        """Forum topics as ``ForumTopic`` objects plus ``is_closed``."""
        state = self._chat_state(chat_id)
        return [
            {**topic.as_object(), "is_closed": topic.closed}
            for _, topic in sorted(state.topics.items())
        ]

    def topic(self, chat_id: int, thread_id: int) -> dict[str, Any]:
        for topic in self.topics(chat_id):
            if topic["message_thread_id"] == thread_id:
                return topic
        msg = f"no topic {thread_id} in chat {chat_id}"
        raise KeyError(msg)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The ``answerCallbackQuery`` params for a query, or None while unanswered."""
        state = self.callbacks[query_id]
        return copy.deepcopy(state.answer) if state.answered else None

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id].content

    def is_blocked(self, user: dict[str, Any] | int) -> bool:
        return self._users[self._user(user)["id"]].blocked

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for the bot and not yet confirmed by an offset."""
        return copy.deepcopy(self._updates)

    def take_updates(self) -> list[dict[str, Any]]:
        """Return and confirm every pending update (for in-process feeding)."""
        taken, self._updates = self._updates, []
        for update in taken:
            self._delivery_counts[update["update_id"]] = (
                self._delivery_counts.get(update["update_id"], 0) + 1
            )
        return taken

    def delivery_count(self, update_id: int) -> int:
        """How many times getUpdates (or take_updates) has handed out this update."""
        return self._delivery_counts.get(update_id, 0)

    @property
    def allowed_updates(self) -> list[str] | None:
        return sorted(self._allowed_updates) if self._allowed_updates is not None else None

    def describe_calls(self, last: int = 25) -> str:
        return "\n".join(f"  {c.describe()}" for c in self.calls[-last:]) or "  (none)"

    def mark(self) -> int:
        """Index into ``calls``; pass it as ``since`` to ``wait_for_call``."""
        return len(self.calls)

    async def wait_for(
        self,
        predicate: Callable[[Self], Any],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for the poll, not an I/O timeout
        *,
        interval: float = 0.01,
        description: str | None = None,
    ) -> Any:
        """Poll until ``predicate(self)`` is truthy and return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if loop.time() >= deadline:
                what = description or getattr(predicate, "__name__", repr(predicate))
                msg = (
                    f"wait_for timed out after {timeout}s: {what}\n"
                    f"recent API calls:\n{self.describe_calls()}"
                )
                raise AssertionError(msg)
            await asyncio.sleep(interval)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], Any] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        finished: bool = True,
    ) -> RecordedCall:
        """Wait for a call of ``method`` (from index ``since``) matching ``predicate``."""
        wanted = method.lower()

        def find(_: object) -> RecordedCall | None:
            for call in self.calls[since:]:
                if call.method.lower() != wanted or (finished and not call.finished):
                    continue
                if predicate is None or predicate(call):
                    return call
            return None

        return await self.wait_for(find, timeout, description=f"a {method} call")

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[dict[str, Any]], Any] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        thread_id: int | None = None,
        from_bot: bool | None = True,
    ) -> dict[str, Any]:
        """Wait until a message (by default from the bot) matching ``predicate`` is in a chat."""

        def find(_: object) -> dict[str, Any] | None:
            for message in self.messages_in(chat_id, thread_id, from_bot=from_bot):
                if predicate is None or predicate(message):
                    return message
            return None

        return await self.wait_for(find, timeout, description=f"a message in chat {chat_id}")

    async def wait_confirmed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed every queued update."""
        await self.wait_for(
            lambda emu: not emu._updates, timeout, description="all updates confirmed"
        )

    async def wait_changed(self, since: int, timeout: float) -> int:  # noqa: ASYNC109
        """Wait until ``revision`` passes ``since`` (or ``timeout`` seconds); returns it."""
        if self.revision <= since and timeout > 0:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._change_waiters.append(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, timeout)
            finally:
                with contextlib.suppress(ValueError):
                    self._change_waiters.remove(waiter)
        return self.revision
