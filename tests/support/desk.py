"""The whole bot in-process: emulator world -> inbox -> Dispatcher -> outbox -> emulator.

Updates go through the real inbox processor and Dispatcher; the real Sender delivers the outbox
to the emulator through an in-process session. ``await desk.step()`` runs one full round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.delivery import DeliveryAdapter
from bot.adapters.presenter import Presenter
from bot.app import build_dispatcher, desk_config_from, make_bot, make_presenter, make_sender
from bot.config import Settings
from bot.runtime.processor import Processor
from bot.runtime.sender import Sender
from bot.sandbox.emulator import BotApiEmulator
from bot.services import agents
from bot.services.triage_port import Triage, TriageVerdict
from bot.texts import make_i18n
from models import Priority
from storage import uow_factory as make_uow_factory
from tests.support.db import engine_with_schema
from tests.support.session import EmulatorSession

TOKEN = "123456:TEST-token-for-the-emulator-only"


@dataclass
class Desk:
    emulator: BotApiEmulator
    bot: Bot
    dp: Dispatcher
    processor: Processor
    sender: Sender
    engine: AsyncEngine
    uow_factory: Any
    presenter: Presenter
    group: dict[str, Any]
    admin: dict[str, Any]
    settings: Settings
    seen: int = field(default=0)

    @property
    def group_id(self) -> int:
        return int(self.group["id"])

    async def step(self, *, ignore_delays: bool = True, drain: bool = True) -> None:
        """Store pending updates in the inbox, process them all, then drain the outbox
        (unless ``drain`` is off: the calls stay queued)."""
        updates = self.emulator.take_updates()
        if updates:
            async with self.uow_factory() as uow:
                rows = [(u["update_id"], json.dumps(u)) for u in updates]
                await uow.inbox.add_many(rows, datetime.now(UTC))
                await uow.commit()
        while True:
            async with self.uow_factory() as uow:
                items = await uow.inbox.pending()
            if not items:
                break
            for item in items:
                await self.processor.process(item)
        if drain:
            await self.sender.flush(ignore_delays=ignore_delays)

    def to_user(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages the bot sent to a user's private chat."""
        return self.emulator.messages_in(user["id"], from_bot=True)

    def texts_to(self, user: dict[str, Any]) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.to_user(user)]

    def topic_messages(self, thread_id: int) -> list[dict[str, Any]]:
        return self.emulator.messages_in(self.group_id, thread_id)

    def settings_now(self) -> datetime:
        return datetime.now(UTC)

    async def ticket(self, number: int) -> Any:
        async with self.uow_factory() as uow:
            return await uow.tickets.by_number(number)

    async def close(self) -> None:
        await self.sender.close()
        await self.bot.session.close()
        await self.engine.dispose()


class GeneralTriage:
    """The desk's triage when a test brings none: every ticket a general question, normal
    priority (tests of the conversation, not of the classifier)."""

    async def classify(self, text: str) -> TriageVerdict:
        return TriageVerdict("general", None, Priority.NORMAL, None, needs_human=False)

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        return False


async def make_desk(
    tmp_path: Path,
    *,
    forum: bool = True,
    triage: Triage | None = None,
    clock: Any = None,
    **settings_overrides: Any,
) -> Desk:
    emulator = BotApiEmulator(TOKEN)
    group = emulator.add_supergroup("Support agents", is_forum=forum)
    admin = emulator.add_user("Alice", username="alice_admin", language_code="en")
    emulator.add_member(group["id"], admin, "administrator")
    settings = Settings(
        bot_token=TOKEN,
        agent_chat_id=group["id"],
        admin_ids=[admin["id"]],
        data_dir=tmp_path,
        database_url=settings_overrides.pop(
            "database_url", f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
        ),
        rate_private_per_s=1000,
        rate_group_per_min=100000,
        rate_global_per_s=1000,
        **settings_overrides,
    )
    engine = await engine_with_schema(settings.database_url)
    uow_factory = make_uow_factory(engine)
    bot = make_bot(settings, EmulatorSession(emulator))
    i18n = make_i18n(settings.default_language)
    I18n.set_current(i18n)
    config = desk_config_from(settings, is_forum=forum)
    presenter = make_presenter(i18n, config)
    sender = make_sender(bot, uow_factory, settings, DeliveryAdapter(i18n, presenter))
    dp = build_dispatcher(
        settings,
        uow_factory,
        presenter,
        config,
        triage=triage or GeneralTriage(),
        clock=clock,
        sender_counters=sender,
    )
    processor = Processor(dp, bot, uow_factory, retry_delay=0)
    async with uow_factory() as uow:
        await agents.ensure_admins(uow, settings.admin_ids, datetime.now(UTC))
    return Desk(
        emulator=emulator,
        bot=bot,
        dp=dp,
        processor=processor,
        sender=sender,
        engine=engine,
        uow_factory=uow_factory,
        presenter=presenter,
        group=group,
        admin=admin,
        settings=settings,
    )


def button_data(message: dict[str, Any], label: str) -> str:
    """The callback data of the button whose text contains ``label``."""
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if label in button.get("text", ""):
                return str(button["callback_data"])
    labels = [b.get("text") for row in markup.get("inline_keyboard", []) for b in row]
    raise AssertionError(f"no button {label!r} among {labels}")


async def press(
    desk: Desk, user: dict[str, Any], message: dict[str, Any], label: str
) -> dict[str, Any]:
    """``user`` presses the button labelled ``label`` under ``message``; runs one step."""
    query = desk.emulator.user_presses(
        user, message["chat"]["id"], message["message_id"], button_data(message, label)
    )
    await desk.step()
    return query


async def open_ticket(
    desk: Desk, name: str = "Ann", text: str = "My card was charged twice", **user: Any
) -> tuple[dict[str, Any], Any]:
    """A new customer ``name`` (``user``: more of add_user's arguments) writes ``text``;
    returns the person and their latest ticket."""
    customer = desk.emulator.add_user(name, **user)
    desk.emulator.user_sends_text(customer, text)
    await desk.step()
    async with desk.uow_factory() as uow:
        customer_row = await uow.customers.by_telegram_id(customer["id"])
        ticket = await uow.tickets.latest_for_customer(customer_row.id)
    return customer, ticket


async def register(
    desk: Desk, name: str, role: str | None = "agent", language_code: str = "en"
) -> dict[str, Any]:
    """A new member of the agents' group; the admin registers them with ``role`` (None: a
    member who is not an agent)."""
    user = desk.emulator.add_user(name, language_code=language_code)
    desk.emulator.add_member(desk.group_id, user)
    if role is not None:
        text = f"/agent add {user['id']} {role}"
        desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id)
        await desk.step()
    return user


async def says(desk: Desk, user: dict[str, Any], text: str) -> list[str]:
    """``user`` writes ``text`` in the group; the bot's answers to it."""
    message = desk.emulator.user_sends_text(user, text, chat_id=desk.group_id)
    await desk.step()
    return [
        m["text"]
        for m in desk.emulator.messages_in(desk.group_id, from_bot=True)
        if m.get("reply_to_message", {}).get("message_id") == message["message_id"]
    ]


def card_of(desk: Desk, ticket: Any) -> dict[str, Any]:
    return desk.emulator.message(desk.group_id, ticket.card_message_id)


def card_quote(message: dict[str, Any]) -> str | None:
    """The customer's first message as a ticket card quotes it (None: it quotes nothing)."""
    text = message.get("text") or ""
    for entity in message.get("entities", []):
        if entity["type"] in ("blockquote", "expandable_blockquote"):
            units = text.encode("utf-16-le")
            start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
            return units[start:end].decode("utf-16-le")
    return None


def customer_texts(message: dict[str, Any]) -> list[str]:
    """The customer texts a message in the agents' chat shows: a copy's text, the first message
    a card quotes, or the texts joined while the group was behind (each after its time)."""
    quoted = card_quote(message)
    if quoted is not None:
        return [quoted]
    text = message.get("text") or ""
    lines = text.splitlines()
    if lines and lines[0].startswith("💬 ") and "joined" in lines[0]:
        return [line.split(" ", 1)[1] for line in lines[1:]]
    return [text] if text else []
