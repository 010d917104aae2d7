"""Every admin command: valid input changes the desk, invalid input is explained and changes
nothing, and an agent without the admin role is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.services import desk_settings, texts
from models import Agent, AssignStrategy, Category, Team
from tests.support.desk import Desk


async def snapshot(desk: Desk) -> dict[str, Any]:
    """Everything admin commands can change, in comparable form."""
    async with desk.uow_factory() as uow:
        teams = [(t.name, t.strategy) for t in await uow.teams.list()]
        agents = [
            (a.telegram_id, a.role, a.active, a.capacity, tuple(a.team_ids))
            for a in await uow.agents.list(active_only=False)
        ]
        categories = [
            (c.key, c.title, c.team_id, c.auto_answer_key, c.auto_answer_threshold)
            for c in await uow.categories.list()
        ]
        canned = [(c.key, c.language, c.text) for c in await uow.canned.list()]
        settings = [(s.name, v) for s, v in await desk_settings.current(uow)]
        words = [
            await texts.custom_text(uow, n, lang)
            for n in texts.CUSTOM_TEXTS
            for lang in ("en", "ru")
        ]
    return {
        "teams": teams,
        "agents": agents,
        "categories": categories,
        "canned": canned,
        "settings": settings,
        "texts": words,
    }


async def prepare(desk: Desk) -> dict[str, Any]:
    bob = desk.emulator.add_user("Bob", username="bob")
    desk.emulator.add_member(desk.group_id, bob)
    async with desk.uow_factory() as uow:
        await uow.agents.add(
            Agent(telegram_id=bob["id"], name="Bob", created_at=desk.settings_now())
        )
        team = await uow.teams.add(Team(name="Billing"))
        await uow.teams.add(Team(name="Tech"))
        await uow.categories.add(Category(key="billing", title="Billing", team_id=team.id))
        await uow.commit()
    desk.emulator.user_sends_text(
        desk.admin, "/canned add hello en\nHello {name}", chat_id=desk.group_id
    )
    await desk.step()
    return {"bob": bob}


async def say(desk: Desk, user: dict[str, Any], text: str) -> str:
    desk.emulator.user_sends_text(user, text, chat_id=desk.group_id)
    await desk.step()
    return desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]["text"]


Check = Callable[[dict[str, Any], dict[str, Any]], bool]


@dataclass(frozen=True)
class Case:
    valid: str
    changed: Check
    invalid: str
    explained: str


def _team(state: dict[str, Any], name: str) -> tuple | None:
    return next((t for t in state["teams"] if t[0] == name), None)


CASES = {
    "agent role": Case(
        "/agent role {bob} supervisor",
        lambda s, p: any(a[0] == p["bob"]["id"] and a[1] == "supervisor" for a in s["agents"]),
        "/agent role {bob} boss",
        "expected agent, supervisor or admin",
    ),
    "agent capacity": Case(
        "/agent capacity {bob} 3",
        lambda s, p: any(a[0] == p["bob"]["id"] and a[3] == 3 for a in s["agents"]),
        "/agent capacity {bob} lots",
        "a number of tickets",
    ),
    "agent remove": Case(
        "/agent remove {bob}",
        lambda s, p: any(a[0] == p["bob"]["id"] and not a[2] for a in s["agents"]),
        "/agent fire {bob}",
        "usage: /agent",
    ),
    "teams add": Case(
        "/teams add Sales",
        lambda s, p: _team(s, "Sales") is not None,
        "/teams add Billing",
        "exists already",
    ),
    "teams rename": Case(
        "/teams rename Tech Support",
        lambda s, p: _team(s, "Support") is not None and _team(s, "Tech") is None,
        "/teams rename Tech Billing",
        "exists already",
    ),
    "teams remove": Case(
        "/teams remove Tech",
        lambda s, p: _team(s, "Tech") is None,
        "/teams remove Nope",
        "unknown team",
    ),
    "teams join": Case(
        "/teams join Tech {bob}",
        lambda s, p: any(a[0] == p["bob"]["id"] and len(a[4]) == 1 for a in s["agents"]),
        "/teams join Tech 999",
        "is not a registered agent",
    ),
    "teams strategy": Case(
        "/teams strategy Tech least_open",
        lambda s, p: _team(s, "Tech") == ("Tech", AssignStrategy.LEAST_OPEN),
        "/teams strategy Tech random",
        "expected manual, round_robin, least_open",
    ),
    "categories add": Case(
        "/categories add returns Tech",
        lambda s, p: any(c[0] == "returns" for c in s["categories"]),
        "/categories add Returns!",
        "one lower-case word",
    ),
    "categories team": Case(
        "/categories team billing none",
        lambda s, p: s["categories"][0][2] is None,
        "/categories team billing Nope",
        "unknown team",
    ),
    "categories remove": Case(
        "/categories remove billing",
        lambda s, p: s["categories"] == [],
        "/categories remove nope",
        "unknown category",
    ),
    "canned add": Case(
        "/canned add bye ru\nДо свидания, {name}",
        lambda s, p: ("bye", "ru", "До свидания, {name}") in s["canned"],
        "/canned add bye xx\nHi",
        "not a language",
    ),
    "canned del": Case(
        "/canned del hello",
        lambda s, p: s["canned"] == [],
        "/canned del nope",
        "no such canned answer",
    ),
    "autoanswer": Case(
        "/autoanswer billing hello 0.8",
        lambda s, p: s["categories"][0][3:] == ("hello", 0.8),
        "/autoanswer billing nope",
        "no such canned answer",
    ),
    "set": Case(
        "/set reopen_window 24h",
        lambda s, p: ("reopen_window", "24h") in s["settings"],
        "/set reopen_window soon",
        "use e.g. 72h",
    ),
    "text": Case(
        "/text welcome ru\nПривет, {name}! Пишите.",
        lambda s, p: "Привет, {name}! Пишите." in s["texts"],
        "/text welcome ru\nПривет, {ticket}",
        "unknown; use {name}",
    ),
}


def fill(template: str, people: dict[str, Any]) -> str:
    return template.replace("{bob}", str(people["bob"]["id"]))


@pytest.mark.parametrize("name", list(CASES))
async def test_valid_input_changes_the_desk(desk: Desk, name: str) -> None:
    people = await prepare(desk)
    case = CASES[name]
    before = await snapshot(desk)
    answer = await say(desk, desk.admin, fill(case.valid, people))
    after = await snapshot(desk)
    assert "Not accepted" not in answer
    assert after != before
    assert case.changed(after, people), after


@pytest.mark.parametrize("name", list(CASES))
async def test_invalid_input_is_explained_and_changes_nothing(desk: Desk, name: str) -> None:
    people = await prepare(desk)
    case = CASES[name]
    before = await snapshot(desk)
    answer = await say(desk, desk.admin, fill(case.invalid, people))
    assert case.explained in answer
    assert await snapshot(desk) == before


@pytest.mark.parametrize("name", list(CASES))
async def test_agents_without_the_admin_role_are_refused(desk: Desk, name: str) -> None:
    people = await prepare(desk)
    case = CASES[name]
    before = await snapshot(desk)
    answer = await say(desk, people["bob"], fill(case.valid, people))
    assert "This needs the admin role" in answer
    assert await snapshot(desk) == before


async def test_settings_show_the_configuration(desk: Desk) -> None:
    await prepare(desk)
    text = await say(desk, desk.admin, "/settings")
    for expected in (
        "collision = warn",
        "reopen_window = 72h",
        "sign_replies = off",
        "Billing (manual (claim), 0)",
        "billing → Billing",
        "Agents: admin 1, agent 1",
    ):
        assert expected in text


async def test_runtime_settings_take_effect(desk: Desk) -> None:
    await prepare(desk)
    await say(desk, desk.admin, "/set reopen_window 0")
    await say(desk, desk.admin, "/set sign_replies on")
    await say(desk, desk.admin, "/text registered en\nThanks {name}, you are {ticket}.")
    ann = desk.emulator.add_user("Ann")
    desk.emulator.user_sends_text(ann, "/start")
    desk.emulator.user_sends_text(ann, "help")
    await desk.step()
    assert desk.texts_to(ann)[-1] == "Thanks Ann, you are #1."
    ticket = await desk.ticket(1)
    desk.emulator.user_sends_text(
        desk.admin, "Fixed it", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()
    assert desk.texts_to(ann)[-1] == "Fixed it\n\n— Alice"
    desk.emulator.user_sends_text(
        desk.admin, "/resolve", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()
    desk.emulator.user_sends_text(ann, "one more thing")
    await desk.step()
    assert (await desk.ticket(2)) is not None  # no reopen window: a new ticket


async def test_changes_are_logged_with_who_made_them(desk: Desk) -> None:
    await prepare(desk)
    with capture_logs() as logs:
        await say(desk, desk.admin, "/teams add Sales")
        await say(desk, desk.admin, "/set collision block")
    audit = [e for e in logs if e.get("event") == "configuration changed"]
    assert [(e["action"], e["by"]) for e in audit] == [
        ("team add", desk.admin["id"]),
        ("setting", desk.admin["id"]),
    ]
