"""The ticket aggregate and its status rules, without any I/O."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from models import (
    ALLOWED_TRANSITIONS,
    Actor,
    EventKind,
    InvalidInput,
    InvalidTransition,
    Priority,
    Role,
    Ticket,
    TicketClosed,
    TicketMerged,
    TicketStatus,
    can_transition,
    make_subject,
    parse_status,
)
from models.status import status_after_agent_reply, status_after_customer_message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Actor.agent(7)
S = TicketStatus


def new_ticket() -> Ticket:
    ticket = Ticket.open(customer_id=1, subject="printer is on fire", now=T0)
    ticket.take_events()
    return ticket


class TestTransitions:
    def test_no_status_transitions_to_itself(self) -> None:
        for status in TicketStatus:
            assert not can_transition(status, status)

    def test_every_status_can_be_left(self) -> None:
        assert all(ALLOWED_TRANSITIONS[s] for s in TicketStatus)

    def test_closed_ticket_only_reopens(self) -> None:
        assert ALLOWED_TRANSITIONS[S.CLOSED] == {S.OPEN}

    def test_invalid_transition_raises_and_changes_nothing(self) -> None:
        ticket = new_ticket()
        ticket.resolve(AGENT, T0)
        with pytest.raises(InvalidTransition):
            ticket.change_status(S.WAITING, AGENT, T0)
        assert ticket.status is S.RESOLVED


class TestClosedAndMergedAreFinal:
    def closed(self) -> Ticket:
        ticket = new_ticket()
        ticket.close(AGENT, T0)
        ticket.take_events()
        return ticket

    @pytest.mark.parametrize(
        "change",
        [
            lambda t: t.assign(5, AGENT, T0),
            lambda t: t.set_priority(Priority.URGENT, AGENT, T0),
            lambda t: t.set_team(3, AGENT, T0),
            lambda t: t.set_category("billing", AGENT, T0),
            lambda t: t.add_tags(["vip"], AGENT, T0),
            lambda t: t.change_status(S.RESOLVED, AGENT, T0),
            lambda t: t.close(AGENT, T0),
        ],
    )
    def test_a_closed_ticket_refuses_every_change_but_a_reopen(self, change) -> None:
        ticket = self.closed()
        with pytest.raises(TicketClosed):
            change(ticket)
        assert (ticket.status, ticket.assignee_id, ticket.priority) == (
            S.CLOSED,
            None,
            Priority.NORMAL,
        )
        assert ticket.take_events() == []
        assert ticket.reopen(AGENT, T0)
        assert ticket.status is S.OPEN

    def test_an_agent_may_still_write_to_a_closed_tickets_customer(self) -> None:
        ticket = self.closed()
        ticket.agent_replied(3, T0)
        assert (ticket.status, ticket.assignee_id) == (S.CLOSED, None)

    def test_a_merged_ticket_is_final(self) -> None:
        old, target = new_ticket(), new_ticket()
        old.id, old.number, target.id, target.number = 2, 2, 1, 1
        old.merge_into(target, AGENT, T0)
        assert (old.status, old.merged_into_id) == (S.CLOSED, 1)
        for change in (
            lambda: old.reopen(AGENT, T0),
            lambda: old.change_status(S.OPEN, AGENT, T0),
            lambda: old.assign(5, AGENT, T0),
        ):
            with pytest.raises(TicketMerged) as info:
                change()
            assert info.value.into_id == 1
        assert old.status is S.CLOSED
        assert not old.accepts_customer_message(T0, timedelta(days=365))

    def test_agent_reply_hands_turn_to_customer(self) -> None:
        assert status_after_agent_reply(S.NEW) is S.WAITING
        assert status_after_agent_reply(S.OPEN) is S.WAITING
        assert status_after_agent_reply(S.ON_HOLD) is S.ON_HOLD

    def test_customer_message_hands_turn_back(self) -> None:
        assert status_after_customer_message(S.WAITING) is S.OPEN
        assert status_after_customer_message(S.RESOLVED) is S.OPEN
        assert status_after_customer_message(S.NEW) is S.NEW

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("open", S.OPEN),
            ("On Hold", S.ON_HOLD),
            ("on-hold", S.ON_HOLD),
            ("on_hold", S.ON_HOLD),
            ("pending", S.WAITING),
        ],
    )
    def test_parse_status_accepts_what_agents_type(self, typed: str, expected: S) -> None:
        assert parse_status(typed) is expected

    def test_parse_status_rejects_unknown_words(self) -> None:
        with pytest.raises(InvalidInput, match="expected one of") as refused:
            parse_status("done-ish")
        listed = refused.value.reason.removeprefix("expected one of: ").split(", ")
        assert "on hold" in listed
        assert "on_hold" not in listed
        assert {parse_status(word) for word in listed} == set(S)  # every word in the hint works

    @given(st.text(max_size=20))
    def test_parse_status_never_crashes(self, typed: str) -> None:
        with contextlib.suppress(InvalidInput):
            assert parse_status(typed) in TicketStatus


class TestTicket:
    def test_open_records_creation(self) -> None:
        ticket = Ticket.open(customer_id=1, subject="hi", now=T0)
        [event] = ticket.take_events()
        assert event.kind is EventKind.CREATED
        assert ticket.take_events() == []

    def test_claim_opens_a_new_ticket(self) -> None:
        ticket = new_ticket()
        assert ticket.assign(7, AGENT, T0)
        assert ticket.status is S.OPEN
        kinds = [e.kind for e in ticket.take_events()]
        assert kinds == [EventKind.ASSIGNED, EventKind.STATUS_CHANGED]

    def test_assigning_the_same_agent_twice_is_no_change(self) -> None:
        ticket = new_ticket()
        ticket.assign(7, AGENT, T0)
        ticket.take_events()
        assert not ticket.assign(7, AGENT, T0)
        assert ticket.take_events() == []

    def test_first_agent_reply_stamps_first_response_once(self) -> None:
        ticket = new_ticket()
        ticket.agent_replied(7, T0 + timedelta(minutes=5))
        ticket.customer_wrote(T0 + timedelta(minutes=6))
        ticket.agent_replied(7, T0 + timedelta(minutes=9))
        assert ticket.first_response_at == T0 + timedelta(minutes=5)
        assert ticket.assignee_id == 7
        assert ticket.status is S.WAITING

    def test_a_customer_message_says_whether_the_card_changes(self) -> None:
        """The card shows the status and the reply clock: a follow-up that changes neither
        needs no card edit (one group call less per customer message)."""
        ticket = new_ticket()
        assert not ticket.customer_wrote(T0 + timedelta(minutes=1))  # NEW stays NEW
        ticket.agent_replied(7, T0 + timedelta(minutes=5))  # the turn is the customer's
        assert ticket.customer_wrote(T0 + timedelta(minutes=6))  # back to the agents
        assert not ticket.customer_wrote(T0 + timedelta(minutes=7))  # nothing new on the card
        assert ticket.awaiting_reply_since == T0 + timedelta(minutes=6)

    def test_resolved_ticket_takes_messages_only_within_reopen_window(self) -> None:
        ticket = new_ticket()
        ticket.resolve(AGENT, T0)
        window = timedelta(hours=72)
        assert ticket.accepts_customer_message(T0 + timedelta(hours=71), window)
        assert not ticket.accepts_customer_message(T0 + timedelta(hours=73), window)

    def test_closed_ticket_never_takes_messages(self) -> None:
        ticket = new_ticket()
        ticket.close(AGENT, T0)
        assert not ticket.accepts_customer_message(T0, timedelta(days=365))

    def test_reopen_clears_resolution_times(self) -> None:
        ticket = new_ticket()
        ticket.close(AGENT, T0)
        assert ticket.reopen(AGENT, T0)
        assert ticket.status is S.OPEN
        assert ticket.resolved_at is None
        assert ticket.closed_at is None

    def test_correcting_category_clears_needs_human(self) -> None:
        ticket = new_ticket()
        ticket.triaged(
            category="billing",
            team_id=None,
            priority=Priority.HIGH,
            confidence=0.3,
            needs_human=True,
            now=T0,
        )
        ticket.set_category("refunds", AGENT, T0)
        assert not ticket.needs_human


class TestSubjectAndRoles:
    def test_subject_collapses_whitespace(self) -> None:
        assert make_subject("  my\n\n card   is blocked ") == "my card is blocked"

    def test_long_subject_is_cut_at_a_word(self) -> None:
        subject = make_subject("word " * 100)
        assert len(subject) <= 201
        assert subject.endswith("word…")

    def test_empty_text_uses_fallback(self) -> None:
        assert make_subject(None, "[photo]") == "[photo]"

    def test_roles_are_ordered(self) -> None:
        assert Role.ADMIN.at_least(Role.SUPERVISOR)
        assert not Role.AGENT.at_least(Role.SUPERVISOR)

    def test_priority_raise_saturates(self) -> None:
        assert Priority.LOW.raised() is Priority.NORMAL
        assert Priority.URGENT.raised() is Priority.URGENT


class TicketLifecycle(RuleBasedStateMachine):
    """Random command sequences keep the ticket consistent and fully recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.ticket = new_ticket()
        self.now = T0
        self.events = 0

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    @rule(status=st.sampled_from(list(TicketStatus)))
    def change_status(self, status: TicketStatus) -> None:
        before = self.ticket.status
        try:
            changed = self.ticket.change_status(status, AGENT, self._tick())
        except InvalidTransition:
            assert not can_transition(before, status)
            assert self.ticket.status is before
            return
        except TicketClosed:
            assert before is S.CLOSED
            assert status is not S.OPEN
            assert self.ticket.status is before
            return
        assert changed == (before is not status)
        assert self.ticket.status is status

    @rule(agent=st.sampled_from([None, 1, 2]))
    def assign(self, agent: int | None) -> None:
        before = self.ticket.assignee_id
        try:
            self.ticket.assign(agent, AGENT, self._tick())
        except TicketClosed:
            assert self.ticket.status is S.CLOSED
            assert self.ticket.assignee_id == before

    @rule()
    def agent_replies(self) -> None:
        self.ticket.agent_replied(3, self._tick())
        assert self.ticket.first_response_at is not None

    @rule()
    def customer_writes(self) -> None:
        if self.ticket.is_active:
            self.ticket.customer_wrote(self._tick())

    @rule()
    def reopen(self) -> None:
        was_active = self.ticket.is_active
        assert self.ticket.reopen(AGENT, self._tick()) == (not was_active)

    @invariant()
    def resolution_times_match_status(self) -> None:
        t = self.ticket
        assert (t.resolved_at is not None) == (t.status in (S.RESOLVED, S.CLOSED))
        assert (t.closed_at is not None) == (t.status is S.CLOSED)

    @invariant()
    def every_status_change_is_recorded(self) -> None:
        events = self.ticket.take_events()
        changes = [e for e in events if e.kind is EventKind.STATUS_CHANGED]
        for event in changes:
            assert event.old != event.new
        if changes:
            assert changes[-1].new == str(self.ticket.status)


TestTicketLifecycle = TicketLifecycle.TestCase
