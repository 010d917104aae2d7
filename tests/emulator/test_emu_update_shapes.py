"""Every update the emulator emits is a complete Bot API object that aiogram 3.31 parses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram.methods import GetUpdates, Response
from aiogram.types import Update

from bot.sandbox.emulator import MEDIA_KINDS, BotApiEmulator


@dataclass
class World:
    emulator: BotApiEmulator
    alice: dict[str, Any]
    agents: int
    thread: int
    card: int


Scenario = Callable[[BotApiEmulator, World], Any]


def _world() -> World:
    # validate_updates=False so that these tests, not the emulator, do the parsing.
    emulator = BotApiEmulator(validate_updates=False)
    alice = emulator.add_user("Alice", "alice", language_code="de", last_name="Liddell")
    agents = emulator.add_supergroup("Agents")["id"]
    thread = emulator._create_forum_topic({"chat_id": agents, "name": "#1"})["message_thread_id"]
    card = emulator._send_message(
        {
            "chat_id": agents,
            "message_thread_id": thread,
            "text": "Ticket #1",
            "reply_markup": {"inline_keyboard": [[{"text": "Take", "callback_data": "t:1"}]]},
        }
    )["message_id"]
    return World(emulator, alice, agents, thread, card)


def _media(kind: str) -> Scenario:
    return lambda e, w: e.user_sends_media(w.alice, kind)


def _edit(e: BotApiEmulator, w: World) -> None:
    message = e.user_sends_text(w.alice, "v1")
    e.user_edits(w.alice, w.alice["id"], message["message_id"], "v2")


SCENARIOS: dict[str, Scenario] = {
    "text": lambda e, w: e.user_sends_text(w.alice, "hello"),
    "command": lambda e, w: e.user_sends_text(w.alice, "/start ref42"),
    **{f"media_{kind}": _media(kind) for kind in MEDIA_KINDS},
    "captioned_photo": lambda e, w: e.user_sends_photo(w.alice, caption="/new broken"),
    "location": lambda e, w: e.user_sends_location(w.alice),
    "contact": lambda e, w: e.user_sends_contact(w.alice, contact_user_id=5),
    "album": lambda e, w: e.user_sends_album(
        w.alice, ["photo", ("video", "clip"), {"type": "photo"}]
    ),
    "topic_message": lambda e, w: e.user_sends_text(
        w.alice, "hi", chat_id=w.agents, thread_id=w.thread
    ),
    "topic_reply": lambda e, w: e.user_sends_text(
        w.alice, "re", chat_id=w.agents, reply_to=w.card
    ),
    "edited_message": _edit,
    "callback_query": lambda e, w: e.user_presses(w.alice, w.agents, w.card, "t:1"),
    "block_and_unblock": lambda e, w: (e.block_bot(w.alice), e.unblock_bot(w.alice)),
    "message_reaction": lambda e, w: e.user_reacts(w.alice, w.agents, w.card),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_emitted_updates_parse(name: str) -> None:
    world = _world()
    SCENARIOS[name](world.emulator, world)
    emitted = world.emulator.emitted_updates
    assert emitted

    for raw in emitted:
        update = Update.model_validate(raw)
        assert update.event_type in raw
    # A getUpdates answer is validated as one batch (TELEGRAM.md §1.1).
    batch = Response[list[Update]].model_validate({"ok": True, "result": emitted})
    assert len(batch.result or []) == len(emitted)


def test_topic_messages_look_like_telegram() -> None:
    world = _world()
    emulator, thread = world.emulator, world.thread
    agent = emulator.add_user("Agent")
    in_topic = emulator.user_sends_text(agent, "hi", chat_id=world.agents, thread_id=thread)
    update = Update.model_validate(emulator.emitted_updates[-1])

    assert update.message is not None
    assert update.message.is_topic_message
    assert update.message.message_thread_id == thread
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.forum_topic_created is not None
    assert in_topic["chat"] == {
        "id": world.agents,
        "type": "supergroup",
        "title": "Agents",
        "is_forum": True,
    }


def test_command_entity_and_private_chat_shape() -> None:
    world = _world()
    emulator, alice = world.emulator, world.alice
    message = emulator.user_sends_text(alice, "/start@helpdesk_test_bot now")
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    assert message["chat"] == {
        "id": alice["id"],
        "type": "private",
        "first_name": "Alice",
        "last_name": "Liddell",
        "username": "alice",
    }
    assert message["from"]["language_code"] == "de"


def test_blocking_emits_my_chat_member_kicked() -> None:
    world = _world()
    emulator, alice = world.emulator, world.alice
    emulator.block_bot(alice)
    update = Update.model_validate(emulator.emitted_updates[-1])
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.old_chat_member.status == "member"


def test_get_updates_answer_parses_as_aiogram_reads_it() -> None:
    world = _world()
    emulator = world.emulator
    emulator.user_sends_album(world.alice, ["photo", "photo"])
    emulator.user_presses(world.alice, world.agents, world.card, "t:1")
    answer = {"ok": True, "result": emulator.pending_updates()}
    response = Response[GetUpdates.__returning__].model_validate(answer)  # type: ignore[name-defined]
    assert [u.event_type for u in response.result or []] == [
        "message",
        "message",
        "callback_query",
    ]
