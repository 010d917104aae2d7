"""One customer across channels, the pure rules: ``/link`` as typed, and a Telegram customer's
linked addresses (link, unlink, where replies go)."""

from __future__ import annotations

import pytest

from models import Customer, LinkProblem, LinkRefused
from models.links import LinkRequest, TelegramSide, parse_address, parse_link, parse_unlink
from models.mail import stand_in_chat_id
from models.widget import stand_in_chat_id as visitor_chat_id


def telegram(customer_id: int = 1) -> Customer:
    return Customer(telegram_id=1000 + customer_id, first_name="Ann", id=customer_id)


def address(customer_id: int = 2, email: str = "ann@example.com") -> Customer:
    return Customer(
        telegram_id=stand_in_chat_id(email), first_name="Ann", email=email, id=customer_id
    )


def refused(problem: LinkProblem) -> pytest.RaisesExc[LinkRefused]:
    return pytest.raises(LinkRefused, check=lambda e: e.problem is problem)


class TestParseLink:
    @pytest.mark.parametrize(
        ("args", "wanted"),
        [
            (
                "#42 Ann@Example.com",
                LinkRequest(TelegramSide(ticket_number=42), "ann@example.com"),
            ),
            (
                "123456789 ann@example.com",
                LinkRequest(TelegramSide(telegram_id=123456789), "ann@example.com"),
            ),
            (
                "@ann_lee <ann@example.com>",
                LinkRequest(TelegramSide(username="ann_lee"), "ann@example.com"),
            ),
            ("mailto:ann@example.com", LinkRequest(None, "ann@example.com")),
            ("  777  ", LinkRequest(TelegramSide(telegram_id=777), None)),
            ("#7", LinkRequest(TelegramSide(ticket_number=7), None)),
        ],
    )
    def test_the_sides_as_typed(self, args: str, wanted: LinkRequest) -> None:
        assert parse_link(args) == wanted

    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            ("", LinkProblem.USAGE),
            ("1 a@b.cd e", LinkProblem.USAGE),
            ("ann@example.com 123", LinkProblem.USAGE),  # the wrong way round
            ("#0 ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("#-3 ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("0 ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("-100123 ann@example.com", LinkProblem.NOT_A_CUSTOMER),  # a group, not a person
            ("99999999999999999999 ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("@ ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("@ann-lee ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("ann ann@example.com", LinkProblem.NOT_A_CUSTOMER),
            ("12 ann@example", LinkProblem.NOT_AN_ADDRESS),
            ("12 ann@@example.com", LinkProblem.NOT_AN_ADDRESS),
            ("12 a@" + "b" * 250 + ".com", LinkProblem.NOT_AN_ADDRESS),
            ("12 ann", LinkProblem.NOT_AN_ADDRESS),
        ],
    )
    def test_bad_input_says_what_is_wrong(self, args: str, problem: LinkProblem) -> None:
        with refused(problem) as caught:
            parse_link(args)
        if problem is not LinkProblem.USAGE:
            assert caught.value.value in args

    def test_unlink_takes_one_address(self) -> None:
        assert parse_unlink(" <Ann@Example.com> ") == "ann@example.com"
        with refused(LinkProblem.USAGE):
            parse_unlink("")
        with refused(LinkProblem.USAGE):
            parse_unlink("a@b.cd e@f.gh")
        with refused(LinkProblem.NOT_AN_ADDRESS):
            parse_unlink("12345")

    def test_an_address_is_kept_lower_case(self) -> None:
        assert parse_address("ANN@EXAMPLE.COM") == "ann@example.com"


class TestLink:
    def test_a_linked_address_belongs_to_the_telegram_customer(self) -> None:
        person, mail = telegram(), address()
        person.link(mail, address_wrote_last=False)
        assert mail.linked_to_id == person.id
        assert person.reply_via_id is None
        assert person.replies_to(mail) is person

    def test_replies_follow_the_channel_last_written_on(self) -> None:
        person, mail = telegram(), address()
        person.link(mail, address_wrote_last=True)
        assert person.replies_to(mail) is mail
        person.wrote_from(person)
        assert person.replies_to(mail) is person
        person.wrote_from(mail)
        assert person.replies_to(mail) is mail

    def test_an_address_not_linked_to_them_is_never_where_replies_go(self) -> None:
        person, stranger = telegram(), address()
        person.wrote_from(stranger)  # not theirs: changes nothing
        assert person.reply_via_id is None
        person.reply_via_id = stranger.id  # a stale pointer (unlinked elsewhere)
        assert person.replies_to(stranger) is person
        assert person.replies_to(None) is person

    def test_unlinking_sends_replies_back_to_the_chat(self) -> None:
        person, mail = telegram(), address()
        person.link(mail, address_wrote_last=True)
        person.unlink(mail)
        assert mail.linked_to_id is None
        assert person.reply_via_id is None
        with refused(LinkProblem.NOT_LINKED):
            person.unlink(mail)

    def test_only_an_address_links_and_only_to_a_telegram_customer(self) -> None:
        person, mail = telegram(), address()
        visitor = Customer(
            telegram_id=visitor_chat_id(3), first_name="Visitor 3", visitor=True, id=3
        )
        with refused(LinkProblem.BY_EMAIL):
            mail.link(address(4, "bob@example.com"), address_wrote_last=False)
        with refused(LinkProblem.VISITOR):
            visitor.link(mail, address_wrote_last=False)
        with refused(LinkProblem.NOT_AN_ADDRESS):
            person.link(telegram(5), address_wrote_last=False)
        with refused(LinkProblem.NOT_AN_ADDRESS):
            person.link(visitor, address_wrote_last=False)
        assert mail.linked_to_id is None

    def test_an_address_is_one_persons(self) -> None:
        ann, boris, mail = telegram(1), telegram(5), address()
        ann.link(mail, address_wrote_last=False)
        with refused(LinkProblem.ALREADY_LINKED):
            ann.link(mail, address_wrote_last=True)
        with refused(LinkProblem.LINKED_ELSEWHERE):
            boris.link(mail, address_wrote_last=True)
        assert mail.linked_to_id == ann.id
        assert boris.reply_via_id is None
        with refused(LinkProblem.NOT_LINKED):
            boris.unlink(mail)
