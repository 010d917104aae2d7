"""What a resolved ticket leaves for the similar-tickets list: its text and the final reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Actor, MediaKind, MessageDirection, Ticket, TicketMessage, make_subject
from models.solutions import SOLUTION_TEXT_MAX, final_reply, solution_of, ticket_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(direction: MessageDirection, text: str | None, minutes: int = 0) -> TicketMessage:
    kind = MediaKind.TEXT if text is not None else MediaKind.PHOTO
    return TicketMessage(
        ticket_id=1,
        direction=direction,
        sent_at=T0 + timedelta(minutes=minutes),
        text=text,
        media_kind=kind,
    )


def resolved_ticket(first: str = "My card was charged twice") -> Ticket:
    ticket = Ticket.open(customer_id=1, subject=make_subject(first), now=T0)
    ticket.id = 1
    ticket.resolve(Actor.system(), T0 + timedelta(hours=1))
    return ticket


class TestTicketText:
    def test_the_subject_cut_from_the_first_message_is_not_repeated(self) -> None:
        first = "word " * 40
        assert (
            ticket_text(make_subject(first), [first, "and more"]) == f"{first.strip()}\nand more"
        )

    def test_a_subject_of_its_own_comes_first(self) -> None:
        assert ticket_text("[photo]", ["it broke", None, "  "]) == "[photo]\nit broke"

    def test_long_conversations_are_cut(self) -> None:
        assert len(ticket_text("x", ["y" * 5000])) == SOLUTION_TEXT_MAX


class TestFinalReply:
    def test_the_last_text_an_agent_sent_counts_not_notes_or_media(self) -> None:
        messages = [
            message(MessageDirection.AGENT, "first answer", 1),
            message(MessageDirection.AGENT, "Refund is on the way", 2),
            message(MessageDirection.NOTE, "internal", 3),
            message(MessageDirection.AGENT, None, 4),
            message(MessageDirection.CUSTOMER, "thanks", 5),
        ]
        found = final_reply(messages)
        assert found is not None
        assert found.text == "Refund is on the way"

    def test_no_agent_text_no_reply(self) -> None:
        assert final_reply([message(MessageDirection.SYSTEM, "auto answer")]) is None


class TestSolutionOf:
    def test_a_resolved_ticket_leaves_its_question_and_reply(self) -> None:
        ticket = resolved_ticket()
        messages = [
            message(MessageDirection.CUSTOMER, "My card was charged twice"),
            message(MessageDirection.AGENT, " Refund is on the way ", 1),
            message(MessageDirection.CUSTOMER, "Thank you", 2),
        ]
        solution = solution_of(ticket, messages)
        assert solution is not None
        assert solution.ticket_id == 1
        assert solution.text == "My card was charged twice\nThank you"
        assert solution.reply == "Refund is on the way"
        assert solution.resolved_at == ticket.resolved_at

    def test_active_merged_or_unanswered_tickets_leave_none(self) -> None:
        answered = [message(MessageDirection.AGENT, "done")]
        active = resolved_ticket()
        active.reopen(Actor.system(), T0 + timedelta(hours=2))
        assert solution_of(active, answered) is None
        merged = resolved_ticket()
        merged.merged_into_id = 9
        assert solution_of(merged, answered) is None
        assert solution_of(resolved_ticket(), [message(MessageDirection.NOTE, "n")]) is None
