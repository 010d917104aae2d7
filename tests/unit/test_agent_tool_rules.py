"""Pure rules of the agents' tools: assignment strategies, canned templates, tags, merges."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.canned import text_index
from models import (
    Actor,
    Agent,
    AssignStrategy,
    CannedAnswer,
    InvalidInput,
    Ticket,
    TicketStatus,
    parse_tags,
)
from models.assignment import available, pick_assignee
from models.canned import check_template, parse_key, pick_version
from triage.similarity import similarities

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RR, LEAST = AssignStrategy.ROUND_ROBIN, AssignStrategy.LEAST_OPEN


def team(n: int, **overrides: dict[int, dict]) -> list[Agent]:
    agents = [Agent(telegram_id=100 + i, name=f"A{i}", id=i + 1) for i in range(n)]
    for agent_id, fields in overrides.items():
        for key, value in fields.items():
            setattr(agents[int(agent_id) - 1], key, value)
    return agents


def run(strategy: AssignStrategy, members: list[Agent], tickets: int) -> list[int | None]:
    """Hand out ``tickets`` new tickets one after another, as the desk does."""
    counts: Counter[int] = Counter()
    last = None
    owners = []
    for _ in range(tickets):
        chosen = pick_assignee(strategy, members, counts, last)
        owners.append(chosen.id if chosen else None)
        if chosen is not None:
            counts[chosen.id] += 1
            last = chosen.id
    return owners


class TestStrategies:
    @given(agents=st.integers(1, 8), rounds=st.integers(1, 6))
    def test_round_robin_is_fair(self, agents: int, rounds: int) -> None:
        owners = run(RR, team(agents), agents * rounds)
        assert Counter(owners) == {i + 1: rounds for i in range(agents)}
        assert owners[:agents] == list(range(1, agents + 1))  # in turn

    def test_round_robin_continues_after_the_last_one(self) -> None:
        assert pick_assignee(RR, team(3), {}, last_assigned=2).id == 3
        assert pick_assignee(RR, team(3), {}, last_assigned=3).id == 1

    @given(
        capacity=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=1, max_size=6),
        away=st.lists(st.booleans(), min_size=6, max_size=6),
        tickets=st.integers(0, 30),
        strategy=st.sampled_from([RR, LEAST]),
    )
    def test_capacity_and_away_are_respected(
        self, capacity: list[int | None], away: list[bool], tickets: int, strategy
    ) -> None:
        members = team(len(capacity))
        for agent, cap, gone in zip(members, capacity, away, strict=False):
            agent.capacity, agent.away = cap, gone
        owners = run(strategy, members, tickets)
        got = Counter(o for o in owners if o is not None)
        for agent in members:
            if agent.away:
                assert got[agent.id] == 0
            elif agent.capacity is not None:
                assert got[agent.id] <= agent.capacity
        # Nobody is left without a ticket while somebody could still take one.
        if None in owners:
            assert not any(available(a, got[a.id]) for a in members)

    def test_least_open_prefers_the_least_loaded(self) -> None:
        members = team(3)
        assert pick_assignee(LEAST, members, {1: 4, 2: 1, 3: 2}, None).id == 2
        # Ties go round-robin from the last one chosen.
        assert pick_assignee(LEAST, members, {1: 1, 2: 1, 3: 1}, 1).id == 2

    def test_manual_and_inactive(self) -> None:
        assert pick_assignee(AssignStrategy.MANUAL, team(2), {}, None) is None
        members = team(2)
        for a in members:
            a.active = False
        assert pick_assignee(RR, members, {}, None) is None


class TestCanned:
    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("en", "Hello Ann, I am Bob. Ticket #7. {literal}"),
            ("ru", "Здравствуйте, Ann! Я Bob, заявка #7."),
        ],
    )
    def test_placeholders_in_both_languages(self, language: str, expected: str) -> None:
        versions = [
            CannedAnswer("hi", "en", "Hello {name}, I am {agent}. Ticket {ticket}. {{literal}}"),
            CannedAnswer("hi", "ru", "Здравствуйте, {name}! Я {agent}, заявка {ticket}."),
        ]
        chosen = pick_version(versions, language, "en")
        assert chosen.render(name="Ann", ticket=7, agent="Bob") == expected

    def test_version_fallback(self) -> None:
        en = CannedAnswer("hi", "en", "x")
        ru = CannedAnswer("hi", "ru", "y")
        assert pick_version([en, ru], "de", "ru") is ru
        assert pick_version([ru], "de", "en") is ru
        assert pick_version([], "en", "en") is None

    @given(st.text(max_size=80))
    def test_templates_are_accepted_or_explained(self, text: str) -> None:
        try:
            body = check_template(text)
        except InvalidInput as refused:
            reason = refused.reason
            body = None
        if body is None:
            assert reason
        else:  # whatever is accepted renders without errors
            assert CannedAnswer("k", "en", body).render(name="n", ticket=1, agent="a") is not None

    @pytest.mark.parametrize("key", ["", "Hi!", "two words", "x" * 33, "-lead"])
    def test_bad_keys(self, key: str) -> None:
        with pytest.raises(InvalidInput):
            parse_key(key)

    def test_similar_text_ranks_first(self) -> None:
        scores = similarities(
            "I want my money back for the order",
            ["We issued a refund, your money comes back", "Reset your password in settings"],
        )
        assert scores[0] > scores[1]
        assert similarities("", ["a"]) == [0.0]

    def test_canned_texts_are_fitted_once_per_version_of_the_set(self) -> None:
        texts = ("We issued a refund", "Reset your password")
        first = text_index(texts)
        assert text_index(tuple(texts)) is first  # the same set: no refit per ticket
        assert text_index((*texts, "A new answer")) is not first  # a new version: refit
        assert first.scores("refund please")[0] > first.scores("refund please")[1]


class TestTagsAndMerge:
    @given(st.text(max_size=60))
    def test_tags_are_parsed_or_explained(self, text: str) -> None:
        try:
            tags = parse_tags(text)
        except InvalidInput:
            return
        assert tags
        assert all(t == t.lower() and " " not in t and len(t) <= 32 for t in tags)
        assert len(tags) == len(set(tags))

    def test_tag_limit_and_events(self) -> None:
        ticket = Ticket.open(customer_id=1, subject="x", now=T0)
        assert ticket.add_tags(["a", "b"], Actor.system(), T0) == ["a", "b"]
        assert ticket.add_tags(["a"], Actor.system(), T0) == []
        with pytest.raises(InvalidInput):
            ticket.add_tags([f"t{i}" for i in range(9)], Actor.system(), T0)
        assert ticket.remove_tags(["a", "zz"], Actor.system(), T0) == ["a"]
        kinds = [e.kind for e in ticket.take_events()]
        assert kinds.count("tagged") == 2
        assert kinds.count("untagged") == 1

    def test_merge_rules(self) -> None:
        a = Ticket.open(customer_id=1, subject="a", now=T0)
        b = Ticket.open(customer_id=1, subject="b", now=T0)
        other = Ticket.open(customer_id=2, subject="c", now=T0)
        a.id, b.id, other.id = 1, 2, 3
        a.tags = ["vip"]
        b.change_status(TicketStatus.CLOSED, Actor.system(), T0)
        with pytest.raises(InvalidInput, match="another customer"):
            a.merge_into(other, Actor.system(), T0)
        with pytest.raises(InvalidInput, match="itself"):
            a.merge_into(a, Actor.system(), T0)
        a.merge_into(b, Actor.system(), T0)
        assert a.status is TicketStatus.CLOSED
        assert a.merged_into_id == 2
        assert b.status is TicketStatus.OPEN
        assert b.tags == ["vip"]
        with pytest.raises(InvalidInput, match="merged already"):
            a.merge_into(b, Actor.system(), T0)
