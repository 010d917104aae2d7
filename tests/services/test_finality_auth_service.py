"""Merged tickets point on (bot.services.finality); who may act (bot.services.auth)."""

from __future__ import annotations

import pytest

from bot.services import auth, finality
from bot.services.ports import TelegramUser
from models import Agent, NotAllowed, Role, Ticket, TicketMerged
from tests.support.fake_uow import FakeDatabase
from tests.support.services import ADA, BOB, T0, customer_and_ticket, store, store_staff


class TestTopicLink:
    def test_a_supergroup_topic_has_a_link(self) -> None:
        assert finality.topic_link(-1001234, 7) == "https://t.me/c/1234/7"

    @pytest.mark.parametrize(("chat", "thread"), [(-1234, 7), (-1001234, None), (None, 7)])
    def test_other_places_have_none(self, chat: int | None, thread: int | None) -> None:
        assert finality.topic_link(chat, thread) is None


async def merged_chain(db: FakeDatabase) -> tuple[Ticket, Ticket, Ticket]:
    """#1 merged into #2, merged into #3 (which has a topic)."""
    customer, last = await customer_and_ticket(db, "third", agent_chat_id=-1005, agent_thread_id=9)
    middle = Ticket.open(customer_id=customer.id, subject="second", now=T0)
    middle.merged_into_id = last.id
    await store(db, middle)
    first = Ticket.open(customer_id=customer.id, subject="first", now=T0)
    first.merged_into_id = middle.id
    await store(db, first)
    return first, middle, last


class TestMergeTarget:
    async def test_a_merge_chain_is_followed_to_its_end(self, db: FakeDatabase) -> None:
        first, _, last = await merged_chain(db)
        async with db.uow() as uow:
            target = await finality.merge_target(uow, first)
        assert target is not None
        assert target.id == last.id

    async def test_a_ticket_not_merged_is_its_own_target(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            assert await finality.merge_target(uow, ticket) is ticket
            assert await finality.merge_target(uow, None) is None


class TestRefuseIfMerged:
    async def test_a_merged_ticket_names_its_target_and_links_its_topic(
        self, db: FakeDatabase
    ) -> None:
        _, middle, last = await merged_chain(db)
        async with db.uow() as uow:
            with pytest.raises(TicketMerged) as refused:
                await finality.refuse_if_merged(uow, middle)
        assert (refused.value.number, refused.value.into_id) == (middle.number, last.id)
        assert refused.value.into_number == last.number
        assert refused.value.link == "https://t.me/c/5/9"

    async def test_a_ticket_not_merged_passes(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            await finality.refuse_if_merged(uow, ticket)


class TestRequireAgent:
    async def test_the_agent_is_returned_with_fresh_names_kept_on_commit(
        self, db: FakeDatabase
    ) -> None:
        await store_staff(db)
        renamed = TelegramUser(
            id=BOB.id,
            first_name="Robert",
            last_name="Tables",
            username="bobby",
            language_code="de",
        )
        async with db.uow() as uow:
            agent = await auth.require_agent(uow, renamed)
            await uow.commit()
        stored = db.row("agents", agent.id)
        assert (stored.name, stored.username, stored.language) == ("Robert Tables", "bobby", "de")

    async def test_an_admin_may_do_what_an_agent_may(self, db: FakeDatabase) -> None:
        await store_staff(db)
        async with db.uow() as uow:
            assert (await auth.require_agent(uow, ADA)).role is Role.ADMIN
            assert (await auth.require_agent(uow, ADA, Role.ADMIN)).telegram_id == ADA.id

    async def test_an_agent_is_refused_an_admins_action_naming_the_role(
        self, db: FakeDatabase
    ) -> None:
        await store_staff(db)
        async with db.uow() as uow:
            with pytest.raises(NotAllowed) as refused:
                await auth.require_agent(uow, BOB, Role.ADMIN)
        assert refused.value.role == str(Role.ADMIN)

    async def test_strangers_and_inactive_agents_are_refused(self, db: FakeDatabase) -> None:
        await store(db, Agent(telegram_id=BOB.id, name="Bob", active=False, created_at=T0))
        stranger = TelegramUser(id=99, first_name="Eve")
        async with db.uow() as uow:
            for user in (BOB, stranger):
                with pytest.raises(NotAllowed) as refused:
                    await auth.require_agent(uow, user)
                assert refused.value.role is None
