"""Who may do what: customers, group members who are not agents, agents and admins.

Every refused action leaves the ticket exactly as it was and tells the person why.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.callbacks import CardAction, CustomerAction, CustomerCb, TicketCb
from models import Priority, Role, TicketStatus
from tests.support.desk import Desk, card_of, press


async def setup(desk: Desk) -> dict[str, Any]:
    emu = desk.emulator
    people = {
        "customer": emu.add_user("Carl", language_code="en"),
        "member": emu.add_user("Mona", username="mona", language_code="en"),
        "agent": emu.add_user("Greg", username="greg", language_code="en"),
        "admin": desk.admin,
    }
    emu.add_member(desk.group_id, people["member"])
    emu.add_member(desk.group_id, people["agent"])
    emu.user_sends_text(desk.admin, f"/agent add {people['agent']['id']}", chat_id=desk.group_id)
    await desk.step()
    return people


async def fresh_ticket(desk: Desk, customer: dict[str, Any], text: str) -> Any:
    desk.emulator.user_sends_text(customer, "/new " + text)
    await desk.step()
    async with desk.uow_factory() as uow:
        row = await uow.customers.by_telegram_id(customer["id"])
        return await uow.tickets.latest_for_customer(row.id)


async def state(desk: Desk, ticket: Any) -> tuple[Any, ...]:
    async with desk.uow_factory() as uow:
        t = await uow.tickets.get(ticket.id)
        events = await uow.events.for_ticket(ticket.id)
        messages = await uow.messages.for_ticket(ticket.id)
    return (t.status, t.priority, t.assignee_id, t.team_id, len(events), len(messages))


GROUP_COMMANDS = [
    "/status on_hold",
    "/priority urgent",
    "/assign me",
    "/close",
    "/resolve",
    "/reopen",
    "/history",
    "/note internal",
    "/team none",
]
BUTTONS = [
    (CardAction.CLAIM, ""),
    (CardAction.STATUS, "resolved"),
    (CardAction.PRIORITY, "high"),
    (CardAction.MENU, "st"),
    (CardAction.TEAM, "0"),
    (CardAction.BACK, ""),
]


class TestNonAgentsAreRefused:
    async def test_member_message_in_topic_is_refused_and_not_delivered(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        before_state = await state(desk, ticket)
        before_customer = len(desk.to_user(people["customer"]))
        desk.emulator.user_sends_text(
            people["member"], "hi there", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert len(desk.to_user(people["customer"])) == before_customer
        assert await state(desk, ticket) == before_state
        last = desk.topic_messages(ticket.agent_thread_id)[-1]
        assert "Only registered agents" in last["text"]

    @pytest.mark.parametrize("command", GROUP_COMMANDS)
    async def test_member_commands_change_nothing(self, desk: Desk, command: str) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        before = await state(desk, ticket)
        desk.emulator.user_sends_text(
            people["member"], command, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert await state(desk, ticket) == before
        assert "Only registered agents" in desk.topic_messages(ticket.agent_thread_id)[-1]["text"]

    async def test_member_buttons_change_nothing(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        card = card_of(desk, ticket)
        for action, value in BUTTONS:
            before = await state(desk, ticket)
            data = TicketCb(a=action, t=ticket.id, v=value).pack()
            query = desk.emulator.user_presses(
                people["member"], desk.group_id, card["message_id"], data, check_button=False
            )
            await desk.step()
            assert await state(desk, ticket) == before, action
            answer = desk.emulator.callback_answer(query["id"])
            assert answer is not None
            assert "Only registered agents" in answer["text"]

    async def test_agent_cannot_manage_agents_but_admin_can(self, desk: Desk) -> None:
        people = await setup(desk)
        emu = desk.emulator
        emu.user_sends_text(
            people["agent"], f"/agent add {people['member']['id']}", chat_id=desk.group_id
        )
        await desk.step()
        async with desk.uow_factory() as uow:
            assert await uow.agents.by_telegram_id(people["member"]["id"]) is None
        emu.user_sends_text(
            people["admin"],
            f"/agent add {people['member']['id']} supervisor",
            chat_id=desk.group_id,
        )
        await desk.step()
        async with desk.uow_factory() as uow:
            added = await uow.agents.by_telegram_id(people["member"]["id"])
        assert added is not None
        assert added.role is Role.SUPERVISOR

    async def test_admin_adds_agent_by_reply(self, desk: Desk) -> None:
        people = await setup(desk)
        emu = desk.emulator
        said = emu.user_sends_text(people["member"], "may I help?", chat_id=desk.group_id)
        emu.user_sends_text(
            people["admin"], "/agent add", chat_id=desk.group_id, reply_to=said["message_id"]
        )
        await desk.step()
        async with desk.uow_factory() as uow:
            added = await uow.agents.by_telegram_id(people["member"]["id"])
        assert added is not None
        assert added.name == "Mona"


class TestAgentsAndAdminsAct:
    @pytest.mark.parametrize("who", ["agent", "admin"])
    async def test_commands_work(self, desk: Desk, who: str) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        thread = ticket.agent_thread_id
        actor = people[who]
        desk.emulator.user_sends_text(
            actor, "/priority urgent", chat_id=desk.group_id, thread_id=thread
        )
        desk.emulator.user_sends_text(actor, "/assign me", chat_id=desk.group_id, thread_id=thread)
        desk.emulator.user_sends_text(
            actor, "/status on hold", chat_id=desk.group_id, thread_id=thread
        )
        await desk.step()
        after = await desk.ticket(ticket.number)
        assert after.priority is Priority.URGENT
        assert after.status is TicketStatus.ON_HOLD
        async with desk.uow_factory() as uow:
            assert after.assignee_id == (await uow.agents.by_telegram_id(actor["id"])).id

    @pytest.mark.parametrize("who", ["agent", "admin"])
    async def test_buttons_work(self, desk: Desk, who: str) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        await press(desk, people[who], card_of(desk, ticket), "Claim")
        await press(desk, people[who], card_of(desk, ticket), "Resolve")
        after = await desk.ticket(ticket.number)
        assert after.status is TicketStatus.RESOLVED
        assert after.assignee_id is not None

    async def test_assign_to_another_agent_by_username(self, desk: Desk) -> None:
        people = await setup(desk)
        # the agent's username is learnt when they first act
        desk.emulator.user_sends_text(people["agent"], "/help", chat_id=desk.group_id)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        desk.emulator.user_sends_text(
            people["agent"], "/assign me", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        desk.emulator.user_sends_text(
            people["admin"],
            "/assign @alice_admin",
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        await desk.step()
        async with desk.uow_factory() as uow:
            admin = await uow.agents.by_telegram_id(people["admin"]["id"])
        assert (await desk.ticket(ticket.number)).assignee_id == admin.id

    async def test_bad_arguments_are_explained(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        thread = ticket.agent_thread_id
        for command, expected in [
            ("/status sleeping", "waiting, on hold, resolved"),
            ("/priority asap", "expected one of"),
            ("/assign @nobody", "not a registered agent"),
            ("/team Martians", "unknown team"),
            ("/note", "write the note"),
        ]:
            desk.emulator.user_sends_text(
                people["agent"], command, chat_id=desk.group_id, thread_id=thread
            )
            await desk.step()
            assert expected in desk.topic_messages(thread)[-1]["text"], command

    async def test_ticket_command_outside_a_ticket_is_explained(self, desk: Desk) -> None:
        people = await setup(desk)
        desk.emulator.user_sends_text(people["agent"], "/close", chat_id=desk.group_id)
        await desk.step()
        assert "inside a ticket" in desk.emulator.messages_in(desk.group_id)[-1]["text"]


class TestForgedAndStaleButtons:
    async def test_unknown_ticket_id_is_refused(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        data = TicketCb(a=CardAction.STATUS, t=9999, v="closed").pack()
        query = desk.emulator.user_presses(
            people["agent"],
            desk.group_id,
            card_of(desk, ticket)["message_id"],
            data,
            check_button=False,
        )
        await desk.step()
        assert "does not exist" in desk.emulator.callback_answer(query["id"])["text"]

    @pytest.mark.parametrize("data", ["t1:zz:1:", "t1:st:1:sleeping", "garbage", "t9:cl:1:"])
    async def test_malformed_payloads_change_nothing(self, desk: Desk, data: str) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        before = await state(desk, ticket)
        query = desk.emulator.user_presses(
            people["agent"],
            desk.group_id,
            card_of(desk, ticket)["message_id"],
            data,
            check_button=False,
        )
        await desk.step()
        assert await state(desk, ticket) == before
        assert desk.emulator.callback_answer(query["id"]) is not None

    async def test_stale_status_button_on_a_closed_ticket(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        old_card = card_of(desk, ticket)
        await press(desk, people["agent"], old_card, "Close")
        before = await state(desk, ticket)
        data = TicketCb(a=CardAction.STATUS, t=ticket.id, v="waiting").pack()
        query = desk.emulator.user_presses(
            people["agent"], desk.group_id, old_card["message_id"], data, check_button=False
        )
        await desk.step()
        assert await state(desk, ticket) == before
        assert "This ticket is closed" in desk.emulator.callback_answer(query["id"])["text"]

    async def test_customer_cannot_touch_someone_elses_ticket(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        intruder = desk.emulator.add_user("Ivy")
        desk.emulator.user_sends_text(intruder, "/start")
        await desk.step()
        before = await state(desk, ticket)
        hello = desk.to_user(intruder)[-1]
        for action in (CustomerAction.CLOSE, CustomerAction.VIEW):
            data = CustomerCb(a=action, t=ticket.id).pack()
            query = desk.emulator.user_presses(
                intruder, intruder["id"], hello["message_id"], data, check_button=False
            )
            await desk.step()
            assert "does not exist" in desk.emulator.callback_answer(query["id"])["text"]
        assert await state(desk, ticket) == before

    async def test_agent_buttons_pressed_in_a_private_chat_do_nothing(self, desk: Desk) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        before = await state(desk, ticket)
        hello = desk.to_user(people["customer"])[-1]
        data = TicketCb(a=CardAction.STATUS, t=ticket.id, v="closed").pack()
        query = desk.emulator.user_presses(
            people["customer"],
            people["customer"]["id"],
            hello["message_id"],
            data,
            check_button=False,
        )
        await desk.step()
        assert await state(desk, ticket) == before
        assert "no longer works" in desk.emulator.callback_answer(query["id"])["text"]

    async def test_customer_typing_agent_commands_changes_nothing_and_is_pointed_to_help(
        self, desk: Desk
    ) -> None:
        people = await setup(desk)
        ticket = await fresh_ticket(desk, people["customer"], "help")
        desk.emulator.user_sends_text(people["customer"], "/close")
        await desk.step()
        after = await desk.ticket(ticket.number)
        assert after.status is TicketStatus.NEW
        texts = [m.get("text") for m in desk.topic_messages(ticket.agent_thread_id)]
        assert "/close" not in texts
        assert desk.texts_to(people["customer"])[-1].startswith("I do not know this command.")
