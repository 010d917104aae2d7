"""``/history`` sentences for the events the conversation tests do not reach."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from bot.adapters.history import event_sentence
from bot.services.ports import HistoryNames
from bot.texts import make_i18n
from models import Actor, EventKind, TicketEvent

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
NAMES = HistoryNames(
    customer="Ann", agents={1: "Alice", 2: "Bob"}, teams={7: "Billing"}, numbers={}
)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    i18n = make_i18n("en")
    with i18n.context(), i18n.use_locale(language):
        yield


def said(
    kind: EventKind, old: str | None = None, new: str | None = None, actor: Actor | None = None
) -> str:
    event = TicketEvent(kind, actor or Actor.agent(1), AT, old=old, new=new)
    return event_sentence(event, 5, NAMES)


class TestSentences:
    @pytest.mark.parametrize("language", ["en", "ru"])
    def test_no_raw_keys_or_ids(self, language: str) -> None:
        with speaking(language):
            texts = [
                said(EventKind.ASSIGNED, new="2"),
                said(EventKind.ASSIGNED, old="2"),
                said(EventKind.TEAM_CHANGED, new="7"),
                said(EventKind.TRIAGED, new="billing:0.87", actor=Actor.system()),
                said(EventKind.STATUS_CHANGED, old="new", new="on_hold"),
            ]
        for text in texts:
            assert "_" not in text
            assert ":0." not in text
            assert " 2" not in text
            assert text.endswith(".")

    def test_english_sentences(self) -> None:
        with speaking("en"):
            self._english()

    def _english(self) -> None:
        assert said(EventKind.ASSIGNED, new="2") == "Alice assigned the ticket to Bob."
        assert said(EventKind.ASSIGNED, new="1") == "Alice took the ticket."
        assert said(EventKind.ASSIGNED, old="2") == "Alice took Bob off the ticket."
        assert (
            said(EventKind.TEAM_CHANGED, new="7") == "Alice moved the ticket to the team Billing."
        )
        assert (
            said(EventKind.TRIAGED, new="billing:0.87", actor=Actor.system())
            == "The classifier chose the category billing (87% sure)."
        )
        assert said(EventKind.TRIAGED, new="None:0.40") == "The classifier found no category."
        assert said(EventKind.MERGED, old="5", new="9") == "Alice merged this ticket into #9."
        assert said(EventKind.MERGED, old="3", new="5") == "Alice merged #3 into this ticket."
        assert said(EventKind.CREATED, actor=Actor.customer(4)) == "Ann opened the ticket."
        assert said(EventKind.CATEGORY_CHANGED, new="oos") == (
            "Alice marked the ticket as fitting no category."
        )

    def test_russian_sentences(self) -> None:
        with speaking("ru"):
            self._russian()

    def _russian(self) -> None:
        assert said(EventKind.ASSIGNED, new="2") == "Alice назначил(а) заявку на Bob."
        assert said(EventKind.STATUS_CHANGED, old="open", new="on_hold") == (
            "Alice сменил(а) статус с «Открыта» на «Отложена»."
        )
