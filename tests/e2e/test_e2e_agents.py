"""The agents' group end to end (the real ``helpdesk run`` against the emulator): command menus
per scope and language, refusals, a private export, a renamed topic, a long signed reply."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import Running

pytestmark = pytest.mark.e2e


def answers_to(run: Running, message: dict[str, Any]) -> list[str]:
    return [
        m.get("text") or ""
        for m in run.emulator.messages_in(run.group_id, from_bot=True)
        if m.get("reply_to_message", {}).get("message_id") == message["message_id"]
    ]


def bot_texts_in(run: Running, thread: int | None = None) -> list[str]:
    return [
        m.get("text") or "" for m in run.emulator.messages_in(run.group_id, thread, from_bot=True)
    ]


def menu(run: Running, scope: dict[str, Any], language: str) -> list[dict[str, str]]:
    return run.emulator.commands.get((json.dumps(scope, sort_keys=True), language), [])


async def test_menus_per_scope_and_language_and_refusals_are_answered(
    forum_bot: Running,
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    group, admin = run.group_id, run.admin["id"]
    scopes = {
        "private": {"type": "all_private_chats"},
        "group": {"type": "chat", "chat_id": group},
        "admin": {"type": "chat_member", "chat_id": group, "user_id": admin},
    }
    for scope in scopes.values():
        for language in ("", "en", "ru"):
            assert menu(run, scope, language), (scope, language)
    names = {k: {c["command"] for c in menu(run, s, "en")} for k, s in scopes.items()}
    assert {"start", "mytickets", "new"} <= names["private"]
    assert {"queue", "close", "help"} <= names["group"]
    assert "export" not in names["group"]
    assert {"export", "health", "agent"} <= names["admin"]
    english = {c["command"]: c["description"] for c in menu(run, scopes["group"], "en")}
    russian = {c["command"]: c["description"] for c in menu(run, scopes["group"], "ru")}
    assert english["queue"] != russian["queue"]
    assert re.search("[а-я]", russian["queue"])

    stranger = emu.add_user("Stan", language_code="en")
    emu.add_member(group, stranger)
    asked = emu.user_sends_text(stranger, "/queue", chat_id=group)
    await run.wait(lambda: answers_to(run, asked), "the refusal")
    assert answers_to(run, asked) == ["Only registered agents may use /queue."]


async def test_export_private_topic_renamed_and_long_signed_reply_whole(
    forum_bot: Running,
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    group, admin = run.group_id, run.admin

    emu.user_sends_text(admin, "/export week", chat_id=group)
    await run.wait(lambda: any("went to Alice" in t for t in bot_texts_in(run)), "export note")
    await run.wait(
        lambda: [m for m in emu.messages_in(admin["id"], from_bot=True) if "document" in m],
        "the archive in Alice's private chat",
    )
    assert not [m for m in emu.messages_in(group, from_bot=True) if "document" in m]

    ann = emu.add_user("Ann", language_code="en")
    emu.user_sends_text(ann, "Hello, my parcel did not arrive and nobody answers the phone")
    await run.wait(lambda: run.ticket_topics(), "the ticket's topic", 60)
    thread = run.ticket_topics()[0]["message_thread_id"]
    asked = emu.user_sends_text(
        admin, "/category no-such-category", chat_id=group, thread_id=thread
    )
    await run.wait(lambda: answers_to(run, asked), "the list of categories")
    keys = answers_to(run, asked)[0].rsplit("categories: ", 1)[1].split(", ")
    current = run.ticket_topics()[0]["name"]
    other = next(k for k in keys if f" · {k} · " not in current)
    emu.user_sends_text(admin, f"/category {other}", chat_id=group, thread_id=thread)
    await run.wait(lambda: f" · {other} · " in run.ticket_topics()[0]["name"], "the topic renamed")

    emu.user_sends_text(admin, "/set sign_replies on", chat_id=group)
    await run.wait(lambda: any("sign_replies" in t for t in bot_texts_in(run)), "setting saved")
    reply = ("Line of the answer & more. " * 160)[:4096]
    emu.user_sends_text(admin, reply, chat_id=group, thread_id=thread)

    def squash(text: str) -> str:
        return "".join(text.split())

    whole = squash(reply + "— Alice")
    await run.wait(
        lambda: whole in squash("".join(run.texts_to(ann))), "the signed reply, whole", 30
    )
    assert not [c for c in emu.calls if c.status == 400 and "too long" in str(c.response)]
