"""The agents' /help and refusals, through the real dispatcher: what a role may do, who may do
what was refused, in the caller's language, and not more often than once in a while."""

from __future__ import annotations

import pytest

from bot.commands import DESK_COMMANDS, allowed
from models import Role
from tests.support.desk import Desk, register, says


class TestHelp:
    @pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
    async def test_help_lists_what_the_callers_role_may_do(self, desk: Desk, role: Role) -> None:
        user = await register(desk, "Bob", role.value)
        [text] = await says(desk, user, "/help")
        for command in DESK_COMMANDS:
            listed = f"/{command.name} — " in text
            assert listed == (command in allowed(role)), command.name
        assert "goes to the customer" in text

    async def test_help_is_in_the_agents_own_language(self, desk: Desk) -> None:
        user = await register(desk, "Борис", language_code="ru")
        [text] = await says(desk, user, "/help")
        assert text.startswith("Ваша роль: специалист.")

    async def test_a_member_who_is_not_an_agent_is_told_so(self, desk: Desk) -> None:
        stranger = await register(desk, "Stan", role=None)
        [text] = await says(desk, stranger, "/help")
        assert "You are not registered as an agent" in text


class TestRefusals:
    @pytest.mark.parametrize(
        ("role", "command", "answer"),
        [
            ("agent", "/health", "Only admins may use /health."),
            ("agent", "/webhook list", "Only admins may use /webhook."),
            ("agent", "/sla", "Only supervisors and admins may use /sla."),
            ("supervisor", "/model", "Only admins may use /model."),
            (None, "/queue", "Only registered agents may use /queue."),
            (None, "/failed", "Only admins may use /failed."),
        ],
    )
    async def test_a_refused_command_says_who_may(
        self, desk: Desk, role: str | None, command: str, answer: str
    ) -> None:
        user = await register(desk, "Bob", role)
        assert await says(desk, user, command) == [answer]

    async def test_in_the_callers_language(self, desk: Desk) -> None:
        user = await register(desk, "Борис", language_code="ru")
        assert await says(desk, user, "/health") == [
            "Команду /health могут использовать только администраторы."
        ]

    async def test_one_refusal_per_person_in_a_while(self, desk: Desk) -> None:
        bob, carol = await register(desk, "Bob"), await register(desk, "Carol")
        assert len(await says(desk, bob, "/health")) == 1
        assert await says(desk, bob, "/model") == []
        assert await says(desk, bob, "/failed") == []
        assert len(await says(desk, carol, "/health")) == 1

    async def test_a_ticket_command_from_a_stranger_is_refused_in_their_language_once(
        self, desk: Desk
    ) -> None:
        stranger = await register(desk, "Стас", role=None, language_code="ru")
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "help")
        await desk.step()
        thread = (await desk.ticket(1)).agent_thread_id
        answers = []
        for text in ("/close", "/priority urgent"):
            message = desk.emulator.user_sends_text(
                stranger, text, chat_id=desk.group_id, thread_id=thread
            )
            await desk.step()
            answers += [
                m["text"]
                for m in desk.emulator.messages_in(desk.group_id, thread, from_bot=True)
                if m.get("reply_to_message", {}).get("message_id") == message["message_id"]
            ]
        assert len(answers) == 1
        assert answers[0].startswith("Работать с заявками здесь могут только")


async def test_an_empty_argument_is_explained_in_a_sentence(desk: Desk) -> None:
    ann = desk.emulator.add_user("Ann")
    desk.emulator.user_sends_text(ann, "help")
    await desk.step()
    thread = (await desk.ticket(1)).agent_thread_id
    desk.emulator.user_sends_text(desk.admin, "/note", chat_id=desk.group_id, thread_id=thread)
    await desk.step()
    answer = desk.emulator.messages_in(desk.group_id, thread, from_bot=True)[-1]["text"]
    assert answer == "Not accepted: write the note after /note"
