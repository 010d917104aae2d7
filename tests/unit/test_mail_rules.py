"""The email channel's pure rules: loops, threading, subjects, stand-in ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.mail import (
    FLOOD_WINDOW,
    NEW_TICKETS_PER_WINDOW,
    REFERENCES_MAX,
    MailHeaders,
    Skipped,
    bare_subject,
    flooding,
    headers_of,
    references,
    reply_subject,
    skipped,
    stand_in_chat_id,
    subject_number,
)

DESK = "support@desk.example"


def parse(raw: bytes) -> MailHeaders:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return headers_of(message, raw)


def mail(**headers: str) -> bytes:
    lines = [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\nHello\r\n").encode()


class TestHeaders:
    def test_reads_sender_ids_and_thread(self) -> None:
        headers = parse(
            mail(
                From='"Ann Lee" <Ann@Example.COM>',
                Subject="Re:  [#42]  card\r\n charged",
                Message_ID="<m3@example.com>",
                In_Reply_To="<d2@desk.example>",
                References="<m1@example.com> <d2@desk.example>",
            )
        )
        assert headers.sender == "ann@example.com"
        assert headers.sender_name == "Ann Lee"
        assert headers.message_id == "m3@example.com"
        assert headers.subject == "Re: [#42] card charged"
        # Nearest first: what it answers, then the references from the latest back.
        assert headers.thread_ids == ("d2@desk.example", "m1@example.com")

    def test_a_mail_without_message_id_is_named_by_its_bytes(self) -> None:
        raw = mail(From="ann@example.com", Subject="hi")
        assert parse(raw).message_id == parse(raw).message_id
        assert parse(raw).message_id != parse(raw + b"more").message_id


class TestLoops:
    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({"Auto_Submitted": "auto-replied"}, Skipped.AUTOMATIC),
            ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, Skipped.AUTOMATIC),
            ({"Precedence": "bulk"}, Skipped.BULK),
            ({"Return_Path": "<>"}, Skipped.BOUNCE),
            ({"Content_Type": 'multipart/report; report-type="delivery-status"'}, Skipped.BOUNCE),
        ],
    )
    def test_machines_are_not_answered(self, headers: dict[str, str], reason: Skipped) -> None:
        assert skipped(parse(mail(From="ann@example.com", **headers)), DESK) is reason

    @pytest.mark.parametrize(
        ("sender", "reason"),
        [
            ("MAILER-DAEMON@mx.example.com", Skipped.BOUNCE),
            ("postmaster@example.com", Skipped.BOUNCE),
            ("Support@Desk.Example", Skipped.OWN),
            ("", Skipped.NO_SENDER),
        ],
    )
    def test_senders_that_are_not_people(self, sender: str, reason: Skipped) -> None:
        assert skipped(parse(mail(From=sender)), DESK) is reason

    def test_a_person_who_says_auto_submitted_no_is_answered(self) -> None:
        assert skipped(parse(mail(From="ann@example.com", Auto_Submitted="no")), DESK) is None


class TestSubjects:
    @pytest.mark.parametrize(
        ("subject", "number"),
        [("Re: [#42] card", 42), ("[#7] a [#8] b", 7), ("#42 card", None), ("[#] x", None)],
    )
    def test_ticket_number(self, subject: str, number: int | None) -> None:
        assert subject_number(subject) == number

    @pytest.mark.parametrize(
        ("subject", "bare"),
        [
            ("Re: RE: Fwd: [#42] card charged", "card charged"),
            ("AW: Re[2]: card", "card"),
            ("Отв: карта", "карта"),
            ("Receipt attached", "Receipt attached"),
        ],
    )
    def test_bare_subject(self, subject: str, bare: str) -> None:
        assert bare_subject(subject) == bare

    @given(st.text(max_size=80), st.integers(min_value=1, max_value=10**9))
    def test_a_reply_subject_names_its_ticket_once_and_is_stable(
        self, subject: str, number: int
    ) -> None:
        once = reply_subject(subject, number)
        assert subject_number(once) == number
        assert once.count(f"[#{number}]") == 1
        # Replying to the desk's reply (any number of times) keeps the same subject.
        assert reply_subject("Re: " + once, number) == once


class TestThreading:
    @given(st.lists(st.text(alphabet="abc@.", min_size=1, max_size=6), max_size=60))
    def test_references_keep_the_root_and_the_latest(self, ids: list[str]) -> None:
        unique = list(dict.fromkeys(ids))
        refs = references(ids)
        assert len(refs) == min(len(unique), REFERENCES_MAX)
        if unique:
            assert refs[0] == unique[0]
            assert refs[-1] == unique[-1]
        assert len(set(refs)) == len(refs)

    @given(st.emails())
    def test_stand_in_ids_are_never_telegram_users_and_ignore_case(self, address: str) -> None:
        chat = stand_in_chat_id(address)
        assert chat < 0
        assert chat == stand_in_chat_id(address.upper())


class TestFloods:
    NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)

    @given(st.lists(st.integers(min_value=0, max_value=7200), max_size=12))
    def test_a_sender_floods_with_enough_tickets_within_the_window(
        self, seconds_ago: list[int]
    ) -> None:
        opened = [self.NOW - timedelta(seconds=s) for s in seconds_ago]
        recent = sum(1 for s in seconds_ago if timedelta(seconds=s) < FLOOD_WINDOW)
        assert flooding(opened, self.NOW) is (recent >= NEW_TICKETS_PER_WINDOW)
