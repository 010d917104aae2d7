"""Each admin and supervisor command's role is written once, in ``bot/commands.py``: the admin
package's handlers ask for exactly that role, people below it get the clear refusal through the
real dispatcher, and the use cases refuse them again when reached another way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiogram import Router
from aiogram.filters import Command

from bot.commands import BY_NAME, DESK_COMMANDS, who_may
from bot.filters import HasRole
from bot.handlers import admin
from bot.services import sla
from bot.services.ports import TelegramUser
from models import NotAllowed, Priority, Role
from models.sla import SlaTargets, parse_duration
from tests.support.desk import Desk, register, says


def handlers(router: Router) -> Iterator[tuple[str, Role | None]]:
    """Each command the router tree handles, with the role its filter asks for."""
    for handler in router.message.handlers:
        callbacks = [f.callback for f in handler.filters or []]
        roles = [c.role for c in callbacks if isinstance(c, HasRole)]
        for command in (c for c in callbacks if isinstance(c, Command)):
            for name in command.commands:
                yield str(name), roles[0] if len(roles) == 1 else None
    for child in router.sub_routers:
        yield from handlers(child)


class TestOnePlace:
    def test_the_admin_handlers_ask_for_the_role_the_table_declares(self) -> None:
        registered = dict(handlers(admin.build_router(-1001)))
        assert {name: BY_NAME[name].handler_role for name in registered} == registered

    def test_every_supervisor_and_admin_command_is_in_the_admin_package(self) -> None:
        registered = dict(handlers(admin.build_router(-1001)))
        above_agents = {c.name for c in DESK_COMMANDS if c.role is not Role.AGENT}
        assert above_agents <= registered.keys()


#: A handler that lets more people through than its command's role parses first (``/agent``
#: alone is explained as a usage, to anyone): these reach the use case.
VALID_ARGUMENTS = {
    "agent": " role 1 supervisor",
    "autoanswer": " billing hello",
    "set": " collision block",
    "text": " welcome en\nHello",
}
RANK = {None: 0, Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
REFUSALS = [
    (command.name, caller)
    for command in DESK_COMMANDS
    if command.role is not Role.AGENT
    for caller in (None, Role.AGENT, Role.SUPERVISOR)
    if RANK[caller] < RANK[command.role]
]


@pytest.mark.parametrize(("name", "caller"), REFUSALS)
async def test_everyone_below_the_role_is_refused_clearly(
    desk: Desk, name: str, caller: Role | None
) -> None:
    """Below the handler's role: the group's one line saying who may; reaching the handler
    but below the command's role: the use case's refusal naming the role."""
    command = BY_NAME[name]
    user = await register(desk, "Bob", caller.value if caller else None)
    args = VALID_ARGUMENTS.get(name, "")
    if RANK[caller] < RANK[command.handler_role]:
        with desk.presenter.i18n.use_locale("en"):
            who = who_may(command.role)
        expected = f"Only {who} may use /{name}."
    else:
        expected = f"This needs the {command.role} role."
    assert await says(desk, user, f"/{name}{args}") == [expected]


class TestSlaSettings:
    async def test_supervisors_read_them_and_only_admins_change_them(self, desk: Desk) -> None:
        greg = await register(desk, "Greg", "supervisor")
        [shown] = await says(desk, greg, "/sla")
        assert "SLA targets" in shown
        assert await says(desk, greg, "/sla urgent 1m 1m 1m") == ["This needs the admin role."]
        [changed] = await says(desk, desk.admin, "/sla urgent 5m 10m 1h")
        assert "first 5m · next 10m · resolution 1h" in changed

    @pytest.mark.parametrize("role", [None, "agent"])
    async def test_the_use_case_refuses_the_view_below_supervisors(
        self, desk: Desk, role: str | None
    ) -> None:
        bob = await register(desk, "Bob", role)
        user = TelegramUser(id=bob["id"], first_name="Bob")
        async with desk.uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await sla.show_settings(uow, user, "UTC")

    async def test_the_use_case_refuses_changes_below_admins(self, desk: Desk) -> None:
        greg = await register(desk, "Greg", "supervisor")
        user = TelegramUser(id=greg["id"], first_name="Greg")
        targets = SlaTargets(*(parse_duration(d) for d in ("1m", "1m", "1m")))
        async with desk.uow_factory() as uow:
            with pytest.raises(NotAllowed, match="admin"):
                await sla.set_targets(uow, user, Priority.URGENT, targets, "UTC")
            with pytest.raises(NotAllowed, match="admin"):
                await sla.set_escalation(uow, user, False, "UTC")
