"""Catalogs, Telegram size limits and button payloads."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.adapters.presenter import TOPIC_NAME_MAX, topic_name
from bot.callbacks import (
    CardAction,
    CustomerAction,
    CustomerCb,
    IncidentAction,
    IncidentCb,
    LanguageCb,
    Menu,
    QueueCb,
    RatingCb,
    SimilarAction,
    SimilarCb,
    TicketCb,
)
from bot.texts import (
    entities_after,
    pick_language,
    split_text,
    utf16_len,
)
from models import Priority, Ticket, TicketStatus
from models.ids import parse_id


class TestLanguagePick:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [("ru", "ru"), ("ru-RU", "ru"), ("en-GB", "en"), ("de", "en"), (None, "en")],
    )
    def test_telegram_codes(self, code: str | None, expected: str) -> None:
        assert pick_language(code, "en") == expected


class TestSplitText:
    def test_short_text_is_one_part(self) -> None:
        assert split_text("hello") == ["hello"]

    def test_splits_at_line_breaks(self) -> None:
        text = ("a" * 3000 + "\n") * 3
        parts = split_text(text)
        assert all(len(p) <= 4096 for p in parts)
        assert len(parts) == 3
        assert "".join(parts).replace("\n", "") == text.replace("\n", "")

    def test_never_cuts_an_entity(self) -> None:
        first, second = split_text("x" * 4093 + "&amp;tail")
        assert first == "x" * 4093
        assert second == "&amp;tail"

    def test_never_cuts_a_tag(self) -> None:
        first, second = split_text("x" * 4090 + "&amp;<b>bold</b>")
        assert first == "x" * 4090 + "&amp;"
        assert second == "<b>bold</b>"

    @settings(max_examples=60)
    @given(st.text(alphabet=string.ascii_letters + " \n&;<>", max_size=12000))
    def test_parts_fit_and_keep_every_non_space_character(self, text: str) -> None:
        parts = split_text(text)
        assert all(len(p) <= 4096 for p in parts)
        squash = lambda s: "".join(s.split())  # noqa: E731
        assert squash("".join(parts)) == squash(text)


class TestEntitiesAfter:
    """The formatting of ``/new <text>`` moved onto ``<text>`` (UTF-16 units, as Telegram)."""

    def test_entities_move_by_utf16_units_and_those_before_are_dropped(self) -> None:
        whole = "/new 🙈 card charged twice"  # 🙈 is two UTF-16 units
        start = utf16_len("/new ")
        command = {"type": "bot_command", "offset": 0, "length": 4}
        bold = {"type": "bold", "offset": utf16_len("/new 🙈 card "), "length": 7}
        kept = entities_after([command, bold], start, utf16_len(whole) - start)
        assert kept == ({"type": "bold", "offset": 8, "length": 7},)

    def test_an_entity_across_the_cut_keeps_its_part_after_it(self) -> None:
        link = {"type": "text_link", "offset": 2, "length": 10, "url": "https://example.com"}
        assert entities_after([link], 5, 20) == (
            {"type": "text_link", "offset": 0, "length": 7, "url": "https://example.com"},
        )

    def test_an_entity_past_the_end_is_cut_to_it(self) -> None:
        bold = {"type": "bold", "offset": 6, "length": 10}
        assert entities_after([bold], 5, 4) == ({"type": "bold", "offset": 1, "length": 3},)


class TestPayloads:
    def test_longest_ticket_payload_fits_in_64_bytes(self) -> None:
        longest_status = max((s.value for s in TicketStatus), key=len)
        data = TicketCb(a=CardAction.STATUS, t=2**63 - 1, v=longest_status).pack()
        assert len(data.encode()) <= 64
        assert TicketCb.unpack(data).v == longest_status

    def test_customer_and_language_payloads_fit(self) -> None:
        assert len(CustomerCb(a=CustomerAction.REOPEN, t=2**63 - 1).pack().encode()) <= 64
        assert len(LanguageCb(lang="ru").pack().encode()) <= 64

    def test_longest_similar_ticket_payload_fits_and_round_trips(self) -> None:
        longest = SimilarCb(a=SimilarAction.DRAFT, t=2**63 - 1, s=2**63 - 1)
        data = longest.pack()
        assert len(data.encode()) <= 64
        assert SimilarCb.unpack(data) == longest

    @pytest.mark.parametrize("data", ["m1:dr:5:-1", f"m1:sd:5:{2**63}", "m1:sh:0:0"])
    def test_similar_payloads_out_of_range_are_refused(self, data: str) -> None:
        with pytest.raises(ValidationError):
            SimilarCb.unpack(data)

    def test_longest_incident_payload_fits_and_round_trips(self) -> None:
        longest = IncidentCb(a=IncidentAction.DETACH, i=2**63 - 1, t=2**63 - 1)
        data = longest.pack()
        assert len(data.encode()) <= 64
        assert IncidentCb.unpack(data) == longest

    @pytest.mark.parametrize("data", ["i1:rs:0:0", "i1:dt:5:-1", f"i1:sp:{2**63}:0", "i1:xx:1:0"])
    def test_incident_payloads_out_of_range_are_refused(self, data: str) -> None:
        with pytest.raises(ValidationError):
            IncidentCb.unpack(data)

    def test_every_payload_family_has_its_own_prefix(self) -> None:
        families = [TicketCb, SimilarCb, CustomerCb, LanguageCb, RatingCb, QueueCb, IncidentCb]
        prefixes = [f.__prefix__ for f in families]
        assert len(set(prefixes)) == len(prefixes)

    def test_payloads_are_versioned(self) -> None:
        assert TicketCb(a=CardAction.MENU, t=1, v=Menu.TEAM).pack().startswith("t1:")
        assert CustomerCb(a=CustomerAction.VIEW, t=1).pack().startswith("c1:")

    def test_parts_fit_in_utf16_units(self) -> None:
        text = "😀" * 3000  # 3000 characters, 6000 UTF-16 units
        parts = split_text(text)
        assert len(parts) == 2
        assert all(utf16_len(p) <= 4096 for p in parts)
        assert "".join(parts) == text

    @given(st.text(min_size=0, max_size=500))
    def test_topic_names_fit(self, subject: str) -> None:
        ticket = Ticket.open(customer_id=1, subject=subject, now=datetime(2026, 1, 1, tzinfo=UTC))
        ticket.number, ticket.category, ticket.priority = 10**9, "refunds", Priority.HIGH
        name = topic_name(ticket)
        assert 1 <= utf16_len(name) <= TOPIC_NAME_MAX
        assert name.startswith("#1000000000")

    def test_emoji_subjects_are_cut_by_utf16_units_keeping_the_number(self) -> None:
        ticket = Ticket.open(
            customer_id=1, subject="😀" * 100, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
        ticket.number = 42
        name = topic_name(ticket)
        assert len(name) < TOPIC_NAME_MAX < 2 * len(name)  # code points would have passed
        assert utf16_len(name) <= TOPIC_NAME_MAX
        assert name.startswith("#42 · 😀")
        assert name.endswith("…")

    @pytest.mark.parametrize(
        "data",
        [
            "t1:cl:" + "9" * 57 + ":",  # 64 bytes, far beyond a 64-bit id
            f"t1:cl:{2**63}:",
            "t1:cl:0:",
            "t1:cl:-5:",
            "t1:tm:5:" + "9" * 30,
        ],
    )
    def test_card_payloads_with_ids_the_database_cannot_hold_are_refused(self, data: str) -> None:
        assert len(data.encode()) <= 64
        # A ValueError: what aiogram's filter treats as "not this button".
        with pytest.raises(ValidationError):
            TicketCb.unpack(data)

    @pytest.mark.parametrize("data", ["c1:r:" + "9" * 58, "c1:v:0"])
    def test_customer_payloads_with_out_of_range_ids_are_refused(self, data: str) -> None:
        with pytest.raises(ValidationError):
            CustomerCb.unpack(data)

    @pytest.mark.parametrize("data", ["s1:5:0", "s1:5:6", f"s1:{2**64}:5"])
    def test_rating_payloads_out_of_range_are_refused(self, data: str) -> None:
        with pytest.raises(ValidationError):
            RatingCb.unpack(data)

    def test_the_largest_id_still_parses(self) -> None:
        assert TicketCb.unpack(f"t1:cl:{2**63 - 1}:").t == 2**63 - 1


class TestParseId:
    @pytest.mark.parametrize(
        ("text", "signed", "expected"),
        [
            ("42", False, 42),
            (" 7 ", False, 7),
            (str(2**63 - 1), False, 2**63 - 1),
            (str(2**63), False, None),
            ("9" * 57, False, None),
            ("-100123", False, None),
            ("-100123", True, -100123),
            ("²", False, None),
            ("12a", False, None),
            ("", False, None),
        ],
    )
    def test_only_numbers_a_database_holds(
        self, text: str, signed: bool, expected: int | None
    ) -> None:
        assert parse_id(text, signed=signed) == expected
