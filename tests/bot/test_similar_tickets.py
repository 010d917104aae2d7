"""Similar solved tickets through the real dispatcher: recorded on resolve, listed when a similar
ticket opens (and on the card's button), a reply as a draft, sent as is with one more tap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.services import similar
from models import TicketStatus
from tests.support.desk import Desk, card_of, make_desk, open_ticket, press

SOLVED = [
    ("Ann", "My card was charged twice for one order", "Sorry! The double charge is refunded."),
    ("Bob", "I was charged twice on my card yesterday", "We refunded the second charge today."),
    ("Cid", "Charged two times for the same card payment", "The duplicate payment is reversed."),
]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    d = await make_desk(tmp_path)
    yield d
    await d.close()


async def reply_in_topic(desk: Desk, ticket: Any, text: str) -> None:
    desk.emulator.user_sends_text(
        desk.admin, text, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()


async def solve(desk: Desk, name: str, question: str, answer: str) -> Any:
    """A customer asks, the admin answers in the topic and presses Resolve on the card."""
    _customer, ticket = await open_ticket(desk, name, question)
    await reply_in_topic(desk, ticket, answer)
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    return await desk.ticket(ticket.number)


def bot_posts(desk: Desk, ticket: Any) -> list[dict[str, Any]]:
    return [m for m in desk.topic_messages(ticket.agent_thread_id) if m["from"]["is_bot"]]


def similar_list(desk: Desk, ticket: Any) -> list[dict[str, Any]]:
    return [m for m in bot_posts(desk, ticket) if "Similar solved tickets" in m["text"]]


class TestOnOpen:
    async def test_three_solved_tickets_show_on_the_fourth_and_one_tap_drafts_the_reply(
        self, desk: Desk
    ) -> None:
        solved = [await solve(desk, *row) for row in SOLVED]
        assert all(t.status is TicketStatus.RESOLVED for t in solved)
        customer, fourth = await open_ticket(desk, "Dee", "My card got charged twice, please help")

        [listing] = similar_list(desk, fourth)
        for ticket, (_name, _question, answer) in zip(solved, SOLVED, strict=True):
            assert f"#{ticket.number}" in listing["text"]
            assert answer in listing["text"]
        assert "ago" in listing["text"]

        first = solved[0]
        await press(desk, desk.admin, listing, f"#{first.number}")
        draft = bot_posts(desk, fourth)[-1]
        assert "as a draft" in draft["text"]
        assert SOLVED[0][2] in draft["text"]
        assert any(e["type"] == "pre" for e in draft.get("entities", []))
        assert desk.texts_to(customer)[-1] != SOLVED[0][2]  # a draft is not sent

        await press(desk, desk.admin, draft, "Send as is")
        assert desk.texts_to(customer)[-1] == SOLVED[0][2]
        ticket = await desk.ticket(fourth.number)
        assert ticket.status is TicketStatus.WAITING
        assert ticket.first_response_at is not None

        await press(desk, desk.admin, draft, "Send as is")  # a second tap sends nothing
        assert desk.texts_to(customer).count(SOLVED[0][2]) == 1

    async def test_an_unlike_ticket_gets_no_list(self, desk: Desk) -> None:
        for row in SOLVED:
            await solve(desk, *row)
        _customer, other = await open_ticket(desk, "Eve", "Where is my parcel? Delivery is late")
        assert similar_list(desk, other) == []

    async def test_the_first_ticket_of_a_desk_opens_quietly(self, desk: Desk) -> None:
        _customer, ticket = await open_ticket(desk, "Ann", SOLVED[0][1])
        assert similar_list(desk, ticket) == []
        assert not any("similar" in m["text"].lower() for m in bot_posts(desk, ticket))


class TestOnDemand:
    async def test_the_card_button_lists_them_or_says_there_are_none(self, desk: Desk) -> None:
        _customer, lonely = await open_ticket(desk, "Ann", "My invoice address is wrong")
        await press(desk, desk.admin, card_of(desk, lonely), "Similar")
        assert "No similar solved tickets yet" in bot_posts(desk, lonely)[-1]["text"]

        first = await solve(desk, *SOLVED[0])
        _customer, asking = await open_ticket(desk, "Fay", "charged twice?")
        await press(desk, desk.admin, card_of(desk, asking), "Similar")
        listing = bot_posts(desk, asking)[-1]
        assert f"#{first.number}" in listing["text"]
        assert f"#{lonely.number}" not in listing["text"]  # not solved: never listed


class TestRecording:
    async def test_resolve_records_the_final_reply_and_a_new_resolution_replaces_it(
        self, desk: Desk
    ) -> None:
        ticket = await solve(desk, *SOLVED[0])
        async with desk.uow_factory() as uow:
            first = await uow.solutions.for_ticket(ticket.id)
        assert first is not None
        assert first.reply == SOLVED[0][2]
        assert first.text == SOLVED[0][1]

        await press(desk, desk.admin, card_of(desk, ticket), "Close")  # same resolution
        async with desk.uow_factory() as uow:
            assert (await uow.solutions.for_ticket(ticket.id)) == first

        await press(desk, desk.admin, card_of(desk, ticket), "Reopen")
        await reply_in_topic(desk, ticket, "Update: the refund was sent again.")
        await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
        async with desk.uow_factory() as uow:
            second = await uow.solutions.for_ticket(ticket.id)
        assert second is not None
        assert second.reply == "Update: the refund was sent again."
        assert (second.id or 0) > (first.id or 0)

    async def test_a_ticket_resolved_without_a_text_reply_leaves_nothing(self, desk: Desk) -> None:
        _customer, ticket = await open_ticket(desk, "Ann", SOLVED[0][1])
        await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
        async with desk.uow_factory() as uow:
            assert await uow.solutions.for_ticket(ticket.id) is None

    async def test_reindex_rebuilds_the_table_from_history(self, desk: Desk) -> None:
        solved = [await solve(desk, *row) for row in SOLVED]
        async with desk.uow_factory() as uow:
            before = {t.id: await uow.solutions.for_ticket(t.id) for t in solved}
            await uow.solutions.clear()
            await uow.commit()
        async with desk.uow_factory() as uow:
            assert await similar.rebuild_solutions(uow) == len(SOLVED)
        async with desk.uow_factory() as uow:
            for ticket in solved:
                again = await uow.solutions.for_ticket(ticket.id)
                assert again is not None
                assert again.reply == before[ticket.id].reply
                assert again.text == before[ticket.id].text
