"""Similar solved tickets (bot.services.similar): solutions written when tickets are resolved,
rebuilt on demand, a worker's index kept in step with them, the list offered and shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import similar
from models import MessageDirection, Ticket, TicketMessage, TicketNotFound, TicketStatus
from models.solutions import Solution
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, store

RESOLVED = T0 + timedelta(hours=2)
CARD_TEXT = "my card is blocked after three wrong pins"


async def solved(
    db: FakeDatabase, text: str = CARD_TEXT, reply: str | None = "Unblock it in the app."
) -> Ticket:
    """A resolved ticket: the customer's text, then the agent's reply (if any)."""
    _, ticket = await customer_and_ticket(
        db, text, status=TicketStatus.RESOLVED, resolved_at=RESOLVED, agent_thread_id=4
    )
    messages = [TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, text)]
    if reply is not None:
        messages.append(TicketMessage(ticket.id, MessageDirection.AGENT, RESOLVED, reply))
    await store(db, *messages)
    return ticket


async def record(db: FakeDatabase, ticket_id: int) -> bool:
    async with db.uow() as uow:
        ticket = await uow.tickets.get(ticket_id)
        assert ticket is not None
        written = await similar.record_solution(uow, ticket)
        await uow.commit()
    return written


class TestRecordSolution:
    async def test_a_resolved_ticket_leaves_its_question_and_last_reply(
        self, db: FakeDatabase
    ) -> None:
        ticket = await solved(db)
        assert await record(db, ticket.id)
        assert db.state.solutions[ticket.id] == Solution(
            ticket.id, CARD_TEXT, "Unblock it in the app.", RESOLVED, id=1
        )

    async def test_closing_a_resolved_ticket_keeps_its_row(self, db: FakeDatabase) -> None:
        ticket = await solved(db)
        await record(db, ticket.id)
        db.state.table("tickets")[ticket.id].status = TicketStatus.CLOSED
        assert not await record(db, ticket.id)
        assert db.state.solutions[ticket.id].id == 1

    async def test_resolved_again_it_is_replaced_by_a_new_row(self, db: FakeDatabase) -> None:
        ticket = await solved(db)
        await record(db, ticket.id)
        db.state.table("tickets")[ticket.id].resolved_at = RESOLVED + timedelta(days=1)
        await store(
            db, TicketMessage(ticket.id, MessageDirection.AGENT, RESOLVED, "Call us, please.")
        )
        assert await record(db, ticket.id)
        assert (db.state.solutions[ticket.id].id, db.state.solutions[ticket.id].reply) == (
            2,
            "Call us, please.",
        )

    @pytest.mark.parametrize(
        "change",
        [
            {"status": TicketStatus.OPEN, "resolved_at": None},
            {"merged_into_id": 99},
        ],
    )
    async def test_active_and_merged_tickets_leave_none(
        self, db: FakeDatabase, change: dict[str, object]
    ) -> None:
        ticket = await solved(db)
        for name, value in change.items():
            setattr(db.state.table("tickets")[ticket.id], name, value)
        assert not await record(db, ticket.id)
        assert db.state.solutions == {}

    async def test_a_ticket_nobody_answered_in_words_leaves_none(self, db: FakeDatabase) -> None:
        ticket = await solved(db, reply=None)
        assert not await record(db, ticket.id)
        assert db.state.solutions == {}


class TestRebuildSolutions:
    async def test_the_table_is_written_again_from_the_history(self, db: FakeDatabase) -> None:
        first, second = await solved(db), await solved(db, "refund please", "Done.")
        await solved(db, "no reply here", reply=None)
        db.state.solutions[999] = Solution(999, "a deleted ticket", "gone", T0, id=50)
        async with db.uow() as uow:
            assert await similar.rebuild_solutions(uow, batch=1) == 2
        assert sorted(db.state.solutions) == [first.id, second.id]

    async def test_without_a_commit_nothing_changes(self, db: FakeDatabase) -> None:
        db.state.solutions[999] = Solution(999, "old", "row", T0, id=50)
        async with db.uow() as uow:
            await uow.solutions.clear()
        assert list(db.state.solutions) == [999]


class TestSimilarTickets:
    async def test_new_rows_are_read_after_the_watermark(self, db: FakeDatabase) -> None:
        index = similar.SimilarTickets(check_every=0)
        ticket = await solved(db)
        await record(db, ticket.id)
        async with db.uow() as uow:
            assert await index.refresh(uow) == 1
            assert await index.refresh(uow) == 0
        assert (index.rows, index.watermark) == ({ticket.id: 1}, 1)

    async def test_rows_gone_after_a_rebuild_leave_the_index(self, db: FakeDatabase) -> None:
        index = similar.SimilarTickets(check_every=0)
        kept, dropped = await solved(db), await solved(db, "refund please", "Done.")
        await record(db, kept.id)
        await record(db, dropped.id)
        async with db.uow() as uow:
            await index.refresh(uow)
        db.state.solutions.pop(dropped.id)
        async with db.uow() as uow:
            await index.refresh(uow)
            hits = await index.lookup(uow, "refund please", exclude=0, floor=0.0, k=3)
        assert index.rows == {kept.id: 1}
        assert dropped.id not in [h.key for h in hits]

    async def test_a_row_committed_late_below_the_watermark_is_found(
        self, db: FakeDatabase
    ) -> None:
        index = similar.SimilarTickets(check_every=0)
        ticket = await solved(db)
        await record(db, ticket.id)
        db.state.solutions[ticket.id] = Solution(ticket.id, CARD_TEXT, "r", RESOLVED, id=5)
        async with db.uow() as uow:
            await index.refresh(uow)
        db.state.solutions[77] = Solution(77, "late row", "r", RESOLVED, id=3)
        async with db.uow() as uow:
            assert await index.refresh(uow) == 1
        assert index.rows == {ticket.id: 5, 77: 3}


async def asking(db: FakeDatabase) -> Ticket:
    _, ticket = await customer_and_ticket(
        db, "card blocked after wrong pins", agent_chat_id=AGENTS_CHAT, agent_thread_id=9
    )
    await store(
        db,
        TicketMessage(
            ticket.id, MessageDirection.CUSTOMER, T0, "my card is blocked after wrong pins"
        ),
    )
    return ticket


class TestOfferAndShow:
    async def test_a_new_ticket_gets_its_similar_solved_tickets(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        done = await solved(db)
        await record(db, done.id)
        ticket = await asking(db)
        async with db.uow() as uow:
            shown = await similar.offer_on_open(
                uow, presenter, similar.SimilarTickets(), ticket, CARD_TEXT, T0
            )
        assert shown == 1
        [call] = db.outbox
        assert call.chat_id == AGENTS_CHAT
        assert f"#{done.number}" in call.params["text"]
        assert "Unblock it in the app." in call.params["text"]

    async def test_a_match_below_the_open_floor_waits_for_the_button(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        done = await solved(db, "my account is blocked", "Log in again.")  # ~0.4 similar
        await record(db, done.id)
        far = await solved(db, "where is my parcel", "It ships tomorrow.")  # ~0.1
        await record(db, far.id)
        ticket = await asking(db)
        index = similar.SimilarTickets()
        async with db.uow() as uow:
            assert await similar.offer_on_open(uow, presenter, index, ticket, CARD_TEXT, T0) == 0
        assert db.outbox == []
        async with db.uow() as uow:
            listed = await similar.similar_solved(uow, index, ticket, similar.ASK_FLOOR, CARD_TEXT)
        assert [f.ticket.id for f in listed] == [done.id]
        assert similar.ASK_FLOOR <= listed[0].score < similar.OPEN_FLOOR

    async def test_a_solved_ticket_reopened_since_is_skipped(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        done = await solved(db)
        await record(db, done.id)
        db.state.table("tickets")[done.id].status = TicketStatus.OPEN
        ticket = await asking(db)
        async with db.uow() as uow:
            assert (
                await similar.show_similar(uow, presenter, similar.SimilarTickets(), ticket.id, T0)
                == 0
            )
        [call] = db.outbox  # asked: the topic reads that there is none
        assert "No similar solved tickets" in call.params["text"]

    async def test_the_button_shows_the_list(self, db: FakeDatabase, presenter: Presenter) -> None:
        done = await solved(db)
        await record(db, done.id)
        ticket = await asking(db)
        async with db.uow() as uow:
            assert (
                await similar.show_similar(uow, presenter, similar.SimilarTickets(), ticket.id, T0)
                == 1
            )
        assert f"#{done.number}" in db.outbox[0].params["text"]

    async def test_an_unknown_ticket_is_refused(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        async with db.uow() as uow:
            with pytest.raises(TicketNotFound):
                await similar.show_similar(uow, presenter, similar.SimilarTickets(), 42, T0)
