"""Webhook rules that need no I/O: URLs, event names, signatures, payload shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.runtime.webhook_poster import REPLAY_WINDOW_S, sign, verify
from models import (
    Actor,
    Agent,
    Customer,
    InvalidInput,
    MessageDirection,
    Rating,
    Team,
    Ticket,
    TicketMessage,
)
from models import webhooks as wh
from models.delivery import Channel

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class TestSigning:
    def test_signature_matches_an_independent_hmac(self) -> None:
        body = json.dumps({"id": "d-1", "type": "ping", "text": "Привет"}).encode()
        expected = hmac.new(b"topsecret", b"1772445600." + body, hashlib.sha256).hexdigest()
        assert sign("topsecret", 1772445600, body) == "sha256=" + expected

    def test_known_vector(self) -> None:
        # printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert sign("key", 1700000000, b"{}") == (
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        )
        assert sign("key", 1700000000, b"{}") != sign("key", 1700000001, b"{}")
        assert sign("key", 1700000000, b"{}") != sign("other", 1700000000, b"{}")

    def test_verify_refuses_stale_tampered_or_malformed(self) -> None:
        body = b'{"a":1}'
        good = sign("s", 1000, body)
        assert verify("s", "1000", body, good, now=1100)
        assert not verify("s", "1000", body, good, now=1000 + REPLAY_WINDOW_S + 1)
        assert not verify("s", "1000", b'{"a":2}', good, now=1000)
        assert not verify("s", "1001", body, good, now=1000)
        assert not verify("s", "soon", body, good, now=1000)


class TestEndpointInput:
    @pytest.mark.parametrize(
        "url",
        [
            "https://crm.example.com/hooks/helpdesk",
            "https://crm.example.com:8443/h?x=1",
            "http://localhost:8080/hook",
            "http://127.0.0.1/hook",
        ],
    )
    def test_accepted_urls(self, url: str) -> None:
        assert wh.parse_url(f"  {url} ") == url

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://crm.example.com/hook", "https://"),
            ("ftp://localhost/x", "https://"),
            ("crm.example.com", "host"),
            ("https://", "host"),
            ("https://host:port/", "not a valid URL"),
            ("https://a.b/" + "x" * 3000, "longer"),
        ],
    )
    def test_refused_urls_say_why(self, url: str, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            wh.parse_url(url)

    def test_events_default_to_everything_but_notes(self) -> None:
        assert wh.parse_events(None) == wh.DEFAULT_EVENTS
        assert wh.parse_events(" ") == wh.DEFAULT_EVENTS
        assert wh.NOTE not in wh.DEFAULT_EVENTS
        assert set(wh.DEFAULT_EVENTS) | {wh.NOTE} == set(wh.EVENT_TYPES)

    def test_events_are_canonical(self) -> None:
        assert wh.parse_events("ticket.rated, TICKET.OPENED,ticket.rated") == (
            wh.OPENED,
            wh.RATED,
        )

    def test_unknown_events_are_named(self) -> None:
        with pytest.raises(InvalidInput, match=r"ticket\.closed") as info:
            wh.parse_events("ticket.opened,ticket.closed")
        assert "ticket.status_changed" in info.value.reason

    def test_subscription(self) -> None:
        hook = wh.Webhook(url="https://a", secret="s", events=(wh.OPENED,), created_at=T0)
        assert hook.wants(wh.OPENED)
        assert not hook.wants(wh.MESSAGE)
        hook.active = False
        assert not hook.wants(wh.OPENED)

    def test_secrets_are_long_and_fresh(self) -> None:
        assert len(wh.new_secret()) == 64
        assert wh.new_secret() != wh.new_secret()


class TestPayload:
    def ticket(self) -> Ticket:
        ticket = Ticket.open(customer_id=3, subject="card declined", now=T0)
        ticket.id, ticket.number, ticket.team_id, ticket.category = 11, 42, 5, "billing"
        ticket.assign(9, Actor.agent(9), T0 + timedelta(minutes=1))
        return ticket

    def test_envelope_and_ticket_shape(self) -> None:
        agent = Agent(telegram_id=777, name="Bob", username="bob", id=9)
        customer = Customer(telegram_id=555, first_name="Ann", last_name="Lee", id=3)
        view = wh.ticket_view(
            self.ticket(),
            customer=customer,
            team=Team(name="Billing", id=5),
            assignee=agent,
            channel=Channel.EMAIL,
        )
        hook = wh.Webhook(url="https://a", secret="s", events=(wh.OPENED,), created_at=T0, id=4)
        call = wh.delivery_call(hook, wh.OPENED, T0, view, {"actor": {"kind": "customer"}})
        body = call.params["body"]
        assert set(body) == {"id", "type", "occurred_at", "ticket", "data"}
        assert body["id"] == call.params["delivery"]
        assert (body["type"], call.params["event"]) == ("ticket.opened", "ticket.opened")
        assert body["occurred_at"] == "2026-03-02T10:00:00.000Z"
        assert body["ticket"] == {
            "id": 11,
            "number": 42,
            "subject": "card declined",
            "status": "open",
            "priority": "normal",
            "category": "billing",
            "team": "Billing",
            "assignee": {"id": 9, "telegram_id": 777, "name": "Bob", "username": "bob"},
            "customer": {
                "id": 3,
                "telegram_id": 555,
                "email": None,
                "channel": "telegram",
                "name": "Ann Lee",
                "username": None,
                "language": None,
            },
            "created_at": "2026-03-02T10:00:00.000Z",
            "updated_at": "2026-03-02T10:01:00.000Z",
            "sla_breached": False,
            "channel": "email",  # where its first customer message came in
        }
        assert call.queue == (Channel.WEBHOOK, 4)  # the endpoint's own queue
        assert call.method == "webhook"
        json.dumps(body)  # serialisable as is

    def test_an_email_customer_is_shown_by_address_not_by_a_telegram_id(self) -> None:
        customer = Customer(telegram_id=-77, first_name="Ann", email="ann@example.com", id=3)
        view = wh.customer_view(customer)
        assert view is not None
        assert (view["telegram_id"], view["email"], view["channel"]) == (
            None,
            "ann@example.com",
            "email",
        )

    def test_times_are_utc_whatever_the_zone(self) -> None:
        moscow = timezone(timedelta(hours=3))
        assert wh.iso(datetime(2026, 3, 2, 13, 0, 0, 123456, tzinfo=moscow)) == (
            "2026-03-02T10:00:00.123Z"
        )
        with pytest.raises(ValueError, match="naive"):
            wh.iso(datetime(2026, 3, 2))

    def test_message_rating_and_ping_data(self) -> None:
        message = TicketMessage(
            ticket_id=11, direction=MessageDirection.AGENT, sent_at=T0, text="hi", id=8
        )
        assert wh.message_view(message, None) == {
            "id": 8,
            "direction": "agent",
            "text": "hi",
            "media_kind": "text",
            "channel": "telegram",
            "sent_at": "2026-03-02T10:00:00.000Z",
            "author": None,
        }
        rating = Rating(ticket_id=11, score=5, rated_at=T0, comment="great")
        assert wh.rating_view(rating) == {
            "score": 5,
            "comment": "great",
            "rated_at": "2026-03-02T10:00:00.000Z",
        }
        hook = wh.Webhook(url="https://a", secret="s", events=(wh.RATED,), created_at=T0, id=2)
        ping = wh.ping_call(hook, T0).params["body"]
        assert (ping["type"], ping["ticket"]) == ("ping", None)
        assert ping["data"] == {"webhook_id": 2, "events": ["ticket.rated"]}

    def test_every_delivery_has_its_own_id(self) -> None:
        hook = wh.Webhook(url="https://a", secret="s", events=(wh.RATED,), created_at=T0, id=2)
        ids = {wh.ping_call(hook, T0).params["delivery"] for _ in range(20)}
        assert len(ids) == 20
