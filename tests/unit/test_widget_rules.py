"""The chat widget's rules without I/O: tokens, what a visitor may send, the desk's texts as
the widget shows them, and its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import SettingsError, load_settings
from models import Customer, InvalidInput
from models.delivery import Channel
from models.mail import stand_in_chat_id as mail_stand_in
from models.widget import (
    AWAY,
    SEEN_EVERY,
    TEXT_MAX,
    TOKEN_PREFIX,
    Visitor,
    checked_client_id,
    checked_contact,
    checked_text,
    new_token,
    parse_origins,
    plain_text,
    stand_in_chat_id,
    token_hash,
    widget_call,
)


class TestTokens:
    def test_tokens_are_long_random_and_stored_only_as_a_digest(self) -> None:
        tokens = {new_token() for _ in range(100)}
        assert len(tokens) == 100
        token = tokens.pop()
        assert token.startswith(TOKEN_PREFIX)
        assert len(token) >= len(TOKEN_PREFIX) + 43
        assert token_hash(token) == token_hash(token)
        assert token not in token_hash(token)
        assert len(token_hash(token)) == 64

    def test_a_visitors_stand_in_id_is_no_telegram_chat_and_no_email_customers(self) -> None:
        assert stand_in_chat_id(1) < -(2**48)
        assert stand_in_chat_id(1) != stand_in_chat_id(2)
        assert mail_stand_in("ann@example.com") > stand_in_chat_id(1)

    def test_a_visitor_customer_is_written_to_in_the_widget(self) -> None:
        visitor = Customer(telegram_id=stand_in_chat_id(5), first_name="Visitor 5", visitor=True)
        assert visitor.channel is Channel.WEB
        assert Customer(telegram_id=5, first_name="Ann").channel is Channel.TELEGRAM


class TestAway:
    def test_a_visitor_is_away_when_their_widget_has_not_read_for_a_while(self) -> None:
        now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
        never = Visitor(1, 1)
        assert never.away(now)
        assert never.seen_long_ago(now)
        reading = Visitor(1, 1, last_read_at=now - SEEN_EVERY / 2)
        assert not reading.away(now)
        assert not reading.seen_long_ago(now)  # no write for every read
        left = Visitor(1, 1, last_read_at=now - AWAY)
        assert left.away(now)
        assert not Visitor(1, 1, last_read_at=now - AWAY + timedelta(seconds=1)).away(now)

    def test_only_a_persons_reply_carries_its_away_mail(self) -> None:
        mail = {"subject": "Re: [#1] x", "html": "hi", "name": "Vera"}
        assert widget_call(7, "hi", 1, mail).params["away_mail"] == mail
        assert "away_mail" not in widget_call(7, "hi", 1).params


class TestInput:
    def test_text_is_trimmed_and_kept_whole(self) -> None:
        assert checked_text("  hello \n") == "hello"
        assert checked_text("x" * TEXT_MAX) == "x" * TEXT_MAX

    @pytest.mark.parametrize(
        ("text", "reason"),
        [("", "empty"), ("  \n ", "empty"), ("x" * (TEXT_MAX + 1), "at most 4000"), (5, "string")],
    )
    def test_bad_text_is_refused_with_its_reason(self, text: object, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            checked_text(text)

    def test_contact_is_optional_and_checked_when_given(self) -> None:
        assert checked_contact(None, "") == (None, None)
        assert checked_contact(" Ann ", "Ann@Example.COM") == ("Ann", "ann@example.com")
        with pytest.raises(InvalidInput, match="not an email address"):
            checked_contact(None, "ann at example")
        with pytest.raises(InvalidInput, match="at most 128"):
            checked_contact("a" * 129, None)

    def test_client_ids_are_short_plain_words(self) -> None:
        assert checked_client_id(None) is None
        assert checked_client_id("0f3a-b_9") == "0f3a-b_9"
        for bad in ("", "a b", "x" * 65, "<script>"):
            with pytest.raises(InvalidInput, match="client_id"):
                checked_client_id(bad)


class TestDeskTexts:
    def test_telegram_html_becomes_plain_text_with_link_addresses(self) -> None:
        html = 'Ticket <b>#42</b> &lt;ok&gt; — see <a href="https://x.test/faq">the FAQ</a>'
        assert plain_text(html) == "Ticket #42 <ok> — see the FAQ (https://x.test/faq)"
        assert plain_text('<a href="https://x.test">https://x.test</a>') == "https://x.test"
        assert plain_text("a &amp;lt; b") == "a &lt; b"

    def test_a_text_for_a_visitor_queues_on_their_own_web_queue(self) -> None:
        call = widget_call(7, "hi", 3)
        assert call.queue == (Channel.WEB, 7)
        assert (call.params, call.ticket_id) == ({"text": "hi"}, 3)


class TestSettings:
    def test_origins_are_a_comma_separated_list_of_sites(self) -> None:
        assert parse_origins("https://Shop.example, http://localhost:8000/,") == [
            "https://shop.example",
            "http://localhost:8000",
        ]
        with pytest.raises(ValueError, match="not an origin"):
            parse_origins("shop.example")

    def test_the_widget_needs_the_api_server_and_is_off_without_origins(self) -> None:
        assert load_settings().widget_origins == []
        with pytest.raises(SettingsError, match="HELPDESK_API_PORT"):
            load_settings(widget_origins="https://shop.example")
        with pytest.raises(SettingsError, match="HELPDESK_WIDGET_ORIGINS: 'ftp://x'"):
            load_settings(widget_origins="ftp://x", api_port=8081)
        on = load_settings(widget_origins="https://shop.example", api_port=8081)
        assert on.widget_origins == ["https://shop.example"]


class TestOtherViews:
    def test_api_and_webhooks_show_a_visitor_as_web_without_a_telegram_id(self) -> None:
        from bot.api import views
        from models.webhooks import customer_view

        visitor = Customer(telegram_id=stand_in_chat_id(3), first_name="Vera", id=9, visitor=True)
        ref = views.customer_ref(visitor)
        assert ref is not None
        assert (ref.channel, ref.telegram_id) == ("web", None)
        shown = customer_view(visitor)
        assert shown is not None
        assert (shown["channel"], shown["telegram_id"]) == ("web", None)
        telegram = views.customer_ref(Customer(telegram_id=5, first_name="Ann", id=1))
        assert telegram is not None
        assert (telegram.channel, telegram.telegram_id) == ("telegram", 5)
