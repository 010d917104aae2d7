"""Canned answers (bot.services.canned): admins keep them, agents pick the customer's version,
new tickets get suggestions, a confident category answers at once."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services import canned
from bot.services.ports import TelegramUser
from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    EventKind,
    InvalidInput,
    MessageDirection,
    NotAllowed,
    Role,
    Ticket,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import T0, customer_and_ticket, sent, store

ADMIN = TelegramUser(id=11, first_name="Ada")
AGENT = TelegramUser(id=12, first_name="Bob")
LANGUAGES = ["en", "de"]


@pytest.fixture
async def people(db: FakeDatabase) -> None:
    await store(
        db,
        Agent(telegram_id=ADMIN.id, name="Ada", role=Role.ADMIN, created_at=T0),
        Agent(telegram_id=AGENT.id, name="Bob", created_at=T0),
        Category(key="billing", title="Billing"),
    )


async def save(
    db: FakeDatabase, user: TelegramUser, key: str, options: list[str], text: str
) -> str:
    async with db.uow() as uow:
        return await canned.save_canned(uow, user, key, options, text, ("en", LANGUAGES), T0)


async def remove(db: FakeDatabase, user: TelegramUser, key: str, options: list[str]) -> int:
    async with db.uow() as uow:
        return await canned.remove_canned(uow, user, key, options, LANGUAGES)


def answer(key: str, language: str, text: str, category: str | None = None) -> CannedAnswer:
    return CannedAnswer(key=key, language=language, text=text, category=category, created_at=T0)


@pytest.mark.usefixtures("people")
class TestCannedCommand:
    async def test_an_admin_adds_versions_and_updates_one(self, db: FakeDatabase) -> None:
        assert await save(db, ADMIN, "refund", [], "Your refund is on its way, {name}.") == (
            "refund"
        )
        await save(db, ADMIN, "refund", ["de", "billing"], "Ihre Erstattung kommt, {name}.")
        await save(db, ADMIN, "refund", ["en"], "Refund sent, {name}!")
        stored = {(a.language, a.text, a.category, a.created_by) for a in db.rows("canned")}
        assert stored == {
            ("en", "Refund sent, {name}!", None, 1),
            ("de", "Ihre Erstattung kommt, {name}.", "billing", 1),
        }

    async def test_a_new_wording_keeps_the_category(self, db: FakeDatabase) -> None:
        await save(db, ADMIN, "refund", ["billing"], "Sent.")
        await save(db, ADMIN, "refund", [], "Sent, {name}.")
        (stored,) = db.rows("canned")
        assert (stored.text, stored.category) == ("Sent, {name}.", "billing")

    async def test_agents_list_but_do_not_change(self, db: FakeDatabase) -> None:
        await store(db, answer("refund", "en", "Refund sent."))
        async with db.uow() as uow:
            listed = await canned.list_canned(uow, AGENT)
        assert [a.key for a in listed] == ["refund"]
        with pytest.raises(NotAllowed):
            await save(db, AGENT, "hello", [], "Hi!")
        assert len(db.rows("canned")) == 1

    async def test_removing_one_language_or_all(self, db: FakeDatabase) -> None:
        await store(db, answer("refund", "en", "Sent."), answer("refund", "de", "Gesendet."))
        assert await remove(db, ADMIN, "refund", ["de"]) == 1
        assert [a.language for a in db.rows("canned")] == ["en"]
        await remove(db, ADMIN, "refund", [])
        assert db.rows("canned") == []
        with pytest.raises(InvalidInput, match="no such canned answer"):
            await remove(db, ADMIN, "refund", [])

    @pytest.mark.parametrize(
        ("options", "text", "reason"),
        [
            (["fr"], "Bonjour", "not a language"),
            ([], "Hi {nom}", "unknown"),
            ([], "", "the answer is empty"),
        ],
    )
    async def test_bad_answers_are_refused(
        self, db: FakeDatabase, options: list[str], text: str, reason: str
    ) -> None:
        # A missing key or an unknown subcommand is refused by the handler's parser
        # (tests/unit/test_command_parsing.py).
        with pytest.raises(InvalidInput, match=reason):
            await save(db, ADMIN, "refund", options, text)
        assert db.rows("canned") == []


class TestAnswerFor:
    async def test_the_customers_language_else_the_desks(self, db: FakeDatabase) -> None:
        await store(db, answer("refund", "en", "Sent."), answer("refund", "de", "Gesendet."))
        german = Customer(telegram_id=1, first_name="Udo", language="de", created_at=T0)
        french = Customer(telegram_id=2, first_name="Luc", language="fr", created_at=T0)
        async with db.uow() as uow:
            assert (await canned.answer_for(uow, "refund", german, "en")).text == "Gesendet."
            assert (await canned.answer_for(uow, "Refund", french, "en")).text == "Sent."

    async def test_by_id_from_a_button_and_unknown_keys(self, db: FakeDatabase) -> None:
        refund = answer("refund", "en", "Sent.")
        await store(db, refund, answer("hello", "en", "Hi."))
        customer = Customer(telegram_id=1, first_name="Ann", language="en", created_at=T0)
        async with db.uow() as uow:
            assert (await canned.answer_for(uow, str(refund.id), customer, "en")).key == "refund"
            with pytest.raises(InvalidInput, match="known: hello, refund"):
                await canned.answer_for(uow, "nope", customer, "en")
            with pytest.raises(InvalidInput, match="deleted"):
                await canned.answer_for(uow, "999", customer, "en")


class TestSuggest:
    async def suggest(self, db: FakeDatabase, text: str) -> list[int]:
        ticket = Ticket.open(customer_id=1, subject="x", now=T0, category="cards")
        async with db.uow() as uow:
            return await canned.suggest(uow, ticket, text, "en", "en")

    async def test_similar_text_and_the_tickets_category(self, db: FakeDatabase) -> None:
        refund = answer("refund", "en", "Your refund for the double charge is on its way.")
        card = answer("card", "en", "Your card was unblocked.", category="cards")
        hours = answer("hours", "en", "We are open from nine to five.")
        await store(db, refund, card, hours)
        assert sorted(await self.suggest(db, "I was charged double, refund")) == sorted(
            [refund.id, card.id]
        )
        assert await self.suggest(db, "xyzzy") == [card.id]  # the category alone

    async def test_no_answers_no_suggestions(self, db: FakeDatabase) -> None:
        ticket = Ticket.open(customer_id=1, subject="x", now=T0)
        async with db.uow() as uow:
            assert await canned.suggest(uow, ticket, "anything", "en", "en") == []


class TestAutoAnswer:
    TEXT = "Hello {name}, about {ticket}: refunds take 3 days."

    async def auto_answer(self, db: FakeDatabase, presenter: Presenter, confidence: float) -> bool:
        """ "billing" answers with "refund" from a confidence of 0.8; a ticket of that category
        comes with ``confidence``."""
        await store(
            db,
            Category("billing", "B", auto_answer_key="refund", auto_answer_threshold=0.8),
            answer("refund", "en", self.TEXT),
        )
        customer, ticket = await customer_and_ticket(
            db, category="billing", triage_confidence=confidence
        )
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            done = await canned.auto_answer(uow, presenter, "en", loaded, customer, T0)
            await uow.commit()
        return done

    async def test_a_confident_category_answers_at_once(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        assert await self.auto_answer(db, presenter, 0.9)
        (message,) = db.rows("messages")
        assert (message.direction, message.text) == (
            MessageDirection.SYSTEM,
            "Hello Ann, about #1: refunds take 3 days.",
        )
        (ticket,) = db.rows("tickets")
        assert (ticket.auto_answer, ticket.first_response_at) == ("refund", None)
        assert [e.new for e in db.events if e.kind is EventKind.AUTO_ANSWERED] == ["refund"]
        assert sent(db) == [(501, "sendMessage")]

    async def test_below_the_threshold_a_person_answers(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        assert not await self.auto_answer(db, presenter, 0.7)
        assert db.rows("messages") == []
        assert db.outbox == []


@pytest.mark.usefixtures("people")
class TestSetAutoAnswer:
    async def test_on_with_a_threshold_then_off(self, db: FakeDatabase) -> None:
        await store(db, answer("refund", "en", "Sent."))
        async with db.uow() as uow:
            assert await canned.set_auto_answer(uow, ADMIN, "billing", "refund", 0.75) == (
                "billing",
                "refund",
                0.75,
            )
        (category,) = db.rows("categories")
        assert (category.auto_answer_key, category.auto_answer_threshold) == ("refund", 0.75)
        async with db.uow() as uow:
            await canned.set_auto_answer(uow, ADMIN, "billing", None)
        (category,) = db.rows("categories")
        assert (category.auto_answer_key, category.auto_answer_threshold) == (None, None)

    @pytest.mark.parametrize(
        ("category", "key", "threshold", "reason"),
        [
            ("nothing", "refund", 0.9, "unknown category"),
            ("billing", "missing", 0.9, "no such canned answer"),
            ("billing", "refund", 0.3, "a confidence from 0.5 to 1.0"),
        ],
    )
    async def test_refusals(
        self, db: FakeDatabase, category: str, key: str, threshold: float, reason: str
    ) -> None:
        await store(db, answer("refund", "en", "Sent."))
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match=reason):
                await canned.set_auto_answer(uow, ADMIN, category, key, threshold)
        (category,) = db.rows("categories")
        assert category.auto_answer_key is None

    async def test_only_admins(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await canned.set_auto_answer(uow, AGENT, "billing", None)
