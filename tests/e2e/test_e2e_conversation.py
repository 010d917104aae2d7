"""The real bot process, over HTTP, against the emulator: the whole conversation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.conftest import Running
from tests.support.desk import button_data, card_quote

pytestmark = pytest.mark.e2e


def card_in(running: Running, thread_id: int | None = None) -> dict[str, Any]:
    for message in running.emulator.messages_in(running.group_id, thread_id, from_bot=True):
        if "🎫" in (message.get("text") or ""):
            return message
    raise AssertionError("no ticket card")


def cards(running: Running) -> list[dict[str, Any]]:
    return [
        m
        for m in running.emulator.messages_in(running.group_id, from_bot=True)
        if "🎫" in (m.get("text") or "")
    ]


async def test_start_is_answered_and_sigterm_stops_within_5s(forum_bot: Running) -> None:
    emu = forum_bot.emulator
    ann = emu.add_user("Ann", language_code="en")
    emu.user_sends_text(ann, "/start")
    await forum_bot.wait(
        lambda: any("Hello, Ann" in t for t in forum_bot.texts_to(ann)), "greeting"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    code = await forum_bot.process.terminate(timeout=5)
    assert code == 0, forum_bot.process.output
    assert loop.time() - started < 5
    assert "stopped" in forum_bot.process.output
    assert "E2E-token" not in forum_bot.process.output


async def test_forum_conversation(forum_bot: Running) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann", language_code="en")

    emu.user_sends_text(ann, "My card was charged twice")
    await run.wait(lambda: run.ticket_topics(), "topic created")
    thread = run.ticket_topics()[0]["message_thread_id"]
    await run.wait(
        lambda: any(
            card_quote(m) == "My card was charged twice"
            for m in emu.messages_in(run.group_id, thread)
        ),
        "the card, quoting the first message",
    )
    emu.user_sends_media(ann, "photo", caption="statement")
    emu.user_sends_album(ann, ["photo", "photo"])
    await run.wait(
        lambda: len([m for m in emu.messages_in(run.group_id, thread) if m.get("photo")]) == 3,
        "photo and album copied into the topic",
    )
    assert "ticket #1" in run.texts_to(ann)[0]
    assert "#1" in card_in(run, thread)["text"]

    emu.user_sends_text(run.admin, "We are checking", chat_id=run.group_id, thread_id=thread)
    emu.user_sends_media(
        run.admin, "photo", caption="like this?", chat_id=run.group_id, thread_id=thread
    )
    emu.user_sends_media(
        run.admin, "document", caption="the form", chat_id=run.group_id, thread_id=thread
    )
    emu.user_sends_text(
        run.admin, "// internal: refund id 7", chat_id=run.group_id, thread_id=thread
    )
    await run.wait(lambda: "the form" in run.texts_to(ann), "agent media reached the customer")
    await asyncio.sleep(0.5)
    texts = run.texts_to(ann)
    assert "We are checking" in texts
    assert "like this?" in texts
    assert not any("internal" in t for t in texts)

    card = card_in(run, thread)
    emu.user_presses(run.admin, run.group_id, card["message_id"], button_data(card, "Resolve"))
    await run.wait(lambda: any("is resolved" in t for t in run.texts_to(ann)), "resolved notice")
    await run.wait(lambda: "Resolved" in card_in(run, thread)["text"], "card edited")

    emu.user_sends_text(ann, "/mytickets")
    await run.wait(lambda: any("Your tickets" in t for t in run.texts_to(ann)), "ticket list")
    listing = emu.messages_in(ann["id"], from_bot=True)[-1]
    emu.user_presses(ann, ann["id"], listing["message_id"], button_data(listing, "Reopen"))
    await run.wait(lambda: any("open again" in t for t in run.texts_to(ann)), "reopened")
    emu.user_sends_text(ann, "/mytickets")
    await run.wait(lambda: sum("Your tickets" in t for t in run.texts_to(ann)) == 2, "second list")
    listing = emu.messages_in(ann["id"], from_bot=True)[-1]
    emu.user_presses(ann, ann["id"], listing["message_id"], button_data(listing, "Close"))
    await run.wait(lambda: emu.topic(run.group_id, thread)["is_closed"], "topic closed")
    assert await run.process.terminate() == 0


async def test_plain_group_conversation(plain_bot: Running) -> None:
    run, emu = plain_bot, plain_bot.emulator
    ann = emu.add_user("Ann", language_code="en")
    emu.user_sends_text(ann, "Where is my order?")
    await run.wait(lambda: cards(run), "card posted")
    card = cards(run)[0]
    emu.user_sends_media(ann, "photo", caption="receipt")
    emu.user_sends_album(ann, ["photo", "video"])
    await run.wait(
        lambda: (
            len([m for m in emu.messages_in(run.group_id) if m.get("photo") or m.get("video")])
            == 3
        ),
        "photo and album copied",
    )
    album = [m for m in emu.messages_in(run.group_id) if m.get("media_group_id")]
    assert len(album) == 2
    emu.user_sends_text(
        run.admin, "Nice photos", chat_id=run.group_id, reply_to=album[0]["message_id"]
    )
    assert run.ticket_topics() == []
    emu.user_sends_text(
        run.admin, "It ships today", chat_id=run.group_id, reply_to=card["message_id"]
    )
    emu.user_sends_media(
        run.admin,
        "document",
        caption="tracking",
        chat_id=run.group_id,
        reply_to=card["message_id"],
    )
    emu.user_sends_text(run.admin, "// note", chat_id=run.group_id, reply_to=card["message_id"])
    await run.wait(lambda: "tracking" in run.texts_to(ann), "answers delivered")
    assert "It ships today" in run.texts_to(ann)
    assert "Nice photos" in run.texts_to(ann)
    emu.user_presses(run.admin, run.group_id, card["message_id"], button_data(card, "Close"))
    await run.wait(lambda: any("is closed" in t for t in run.texts_to(ann)), "closed notice")
    assert not any("note" in t for t in run.texts_to(ann))
    assert await run.process.terminate() == 0


async def test_after_the_reopen_window_a_new_ticket_opens(bot_factory: Any) -> None:
    run = await bot_factory(forum=True, HELPDESK_REOPEN_WINDOW_HOURS="0.0003")  # about 1 s
    emu = run.emulator
    try:
        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "first problem")
        await run.wait(lambda: run.ticket_topics(), "first topic")
        thread = run.ticket_topics()[0]["message_thread_id"]
        emu.user_sends_text(run.admin, "/resolve", chat_id=run.group_id, thread_id=thread)
        await run.wait(lambda: any("is resolved" in t for t in run.texts_to(ann)), "resolved")
        await asyncio.sleep(1.5)
        emu.user_sends_text(ann, "second problem")
        await run.wait(lambda: len(run.ticket_topics()) == 2, "second topic")
        assert any("ticket #2" in t for t in run.texts_to(ann))
    finally:
        await run.process.terminate()
        await run.emulator.stop()


async def test_two_customers_at_once_never_cross(forum_bot: Running) -> None:
    run, emu = forum_bot, forum_bot.emulator
    people = [emu.add_user(f"C{i}") for i in range(4)]
    for person in people:
        emu.user_sends_text(person, f"problem of {person['first_name']}")
    await run.wait(lambda: len(run.ticket_topics()) == 4, "four topics")
    topic_of = {}
    for topic in run.ticket_topics():
        for person in people:
            if person["first_name"] in topic["name"]:
                topic_of[person["id"]] = topic["message_thread_id"]
    for person in people:
        emu.user_sends_text(
            run.admin,
            f"answer for {person['first_name']}",
            chat_id=run.group_id,
            thread_id=topic_of[person["id"]],
        )
    await run.wait(
        lambda: all(f"answer for {p['first_name']}" in run.texts_to(p) for p in people), "answers"
    )
    for person in people:
        answers = [t for t in run.texts_to(person) if t.startswith("answer for")]
        assert answers == [f"answer for {person['first_name']}"]
