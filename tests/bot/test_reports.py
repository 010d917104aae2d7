"""/stats and /export through the real dispatcher, outbox and sender, against the emulator."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from bot.services import sla
from tests.integration.test_reports_storage import store_week
from tests.support.desk import Desk
from tests.support.stats_data import CONFIG

WEEK = "2026-03-02 2026-03-08"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def add_agent(desk: Desk, name: str, role: str) -> dict[str, Any]:
    user = desk.emulator.add_user(name)
    desk.emulator.add_member(desk.group_id, user)
    desk.emulator.user_sends_text(
        desk.admin, f"/agent add {user['id']} {role}", chat_id=desk.group_id
    )
    await desk.step()
    return user


async def seed(desk: Desk) -> None:
    """The generated week, with its business calendars as the desk's SLA settings."""
    await store_week(desk.uow_factory)
    async with desk.uow_factory() as uow:
        await sla.save_config(uow, CONFIG)
        await uow.commit()


def group_messages(desk: Desk, since: int = 0) -> list[dict[str, Any]]:
    return [m for m in desk.emulator.messages_in(desk.group_id) if m["message_id"] > since]


def last_id(desk: Desk) -> int:
    return max((m["message_id"] for m in desk.emulator.messages_in(desk.group_id)), default=0)


def file_content(desk: Desk, file_id: str) -> bytes:
    return desk.emulator.files[file_id].content


class TestStats:
    async def test_supervisor_gets_summary_and_chart(self, desk: Desk) -> None:
        await seed(desk)
        sue = await add_agent(desk, "Sue", "supervisor")
        before = last_id(desk)
        desk.emulator.user_sends_text(sue, f"/stats {WEEK}", chat_id=desk.group_id)
        await desk.step()
        answers = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        text = "\n".join(m.get("text", "") for m in answers)
        assert "Statistics for 2026-03-02 – 2026-03-08" in text
        assert "Opened 13 · resolved 11 · backlog 4" in text
        assert "First response: median 40m · 90% within 1h 30m (12 answered)" in text
        assert "SLA met: 73% (16/22)" in text
        assert "CSAT: 3.57 from 7 ratings" in text
        assert "Triage accuracy: 83% (10/12)" in text
        assert "Best: A · needs help: B" in text
        photos = [m for m in answers if "photo" in m]
        assert len(photos) == 2  # the days, and the teams side by side
        png = file_content(desk, photos[0]["photo"][-1]["file_id"])
        assert png[:8] == PNG_SIGNATURE
        assert len(png) > 10_000
        [first, _teams] = desk.emulator.calls_of("sendPhoto")
        reference = first.params["photo"]  # a multipart upload: "attach://<field>"
        assert first.params[reference.removeprefix("attach://")].filename == "stats.png"
        async with desk.uow_factory() as uow:
            assert not await uow.outbox.failed()

    async def test_team_report(self, desk: Desk) -> None:
        await seed(desk)
        before = last_id(desk)
        desk.emulator.user_sends_text(
            desk.admin, f"/stats team tech {WEEK}", chat_id=desk.group_id
        )
        await desk.step()
        answers = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        text = "\n".join(m.get("text", "") for m in answers)
        assert "Statistics for 2026-03-02 – 2026-03-08 · Tech" in text
        assert "Opened 3 · resolved 1 · backlog 2" in text
        assert [m["caption"] for m in answers if "photo" in m] == [
            "Tickets per day, 2026-03-02 – 2026-03-08 · Tech"
        ]

    async def test_admin_in_a_private_chat(self, desk: Desk) -> None:
        await seed(desk)
        desk.emulator.user_sends_text(desk.admin, "/stats week")
        await desk.step()
        sent = desk.to_user(desk.admin)
        assert any("Statistics for" in (m.get("text") or "") for m in sent)
        assert any("photo" in m for m in sent)

    async def test_names_are_escaped(self, desk: Desk) -> None:
        await seed(desk)
        async with desk.uow_factory() as uow:
            agent = await uow.agents.by_telegram_id(600)
            assert agent is not None
            agent.name = "<b>A</b> & co"
            await uow.commit()
        before = last_id(desk)
        desk.emulator.user_sends_text(desk.admin, f"/stats {WEEK}", chat_id=desk.group_id)
        await desk.step()
        text = "\n".join(m.get("text", "") for m in group_messages(desk, before))
        assert "<b>A</b> & co:" in text  # shown literally, not parsed as markup

    async def test_bad_period_says_why(self, desk: Desk) -> None:
        before = last_id(desk)
        desk.emulator.user_sends_text(desk.admin, "/stats fortnight", chat_id=desk.group_id)
        await desk.step()
        [answer] = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        assert "bad period 'fortnight'" in answer["text"]
        assert "today, yesterday, week, month" in answer["text"]
        assert not desk.emulator.calls_of("sendPhoto")

    async def test_unknown_team(self, desk: Desk) -> None:
        await seed(desk)
        before = last_id(desk)
        desk.emulator.user_sends_text(desk.admin, "/stats team Sales", chat_id=desk.group_id)
        await desk.step()
        [answer] = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        assert "unknown team; teams: Billing, Tech" in answer["text"]

    async def test_agent_and_stranger_are_refused_in_the_group(self, desk: Desk) -> None:
        greg = await add_agent(desk, "Greg", "agent")
        stranger = desk.emulator.add_user("Stan")
        desk.emulator.add_member(desk.group_id, stranger)
        for user in (greg, stranger):
            before = last_id(desk)
            desk.emulator.user_sends_text(user, "/stats week", chat_id=desk.group_id)
            await desk.step()
            [answer] = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
            assert answer["text"] == "Only supervisors and admins may use /stats."
        assert not desk.emulator.calls_of("sendPhoto")

    async def test_customer_typing_stats_is_pointed_to_help(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "/stats")
        await desk.step()
        assert not any("Statistics" in t for t in desk.texts_to(ann))
        assert desk.texts_to(ann)[-1].startswith("I do not know this command.")
        assert await desk.ticket(1) is None


class TestExport:
    async def test_admin_gets_a_zip_of_csv_files(self, desk: Desk) -> None:
        await seed(desk)
        desk.emulator.user_sends_text(desk.admin, f"/export {WEEK}")
        await desk.step()
        [document] = [m for m in desk.to_user(desk.admin) if "document" in m]
        assert document["document"]["file_name"] == "helpdesk-2026-03-02-2026-03-08.zip"
        assert "13 tickets" in document["caption"]
        data = file_content(desk, document["document"]["file_id"])
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.namelist() == [
                "tickets.csv",
                "messages.csv",
                "events.csv",
                "ratings.csv",
            ]
            tickets = archive.read("tickets.csv").decode().splitlines()
        assert tickets[0].startswith("number,created_at,status,priority")
        assert len(tickets) == 14

    async def test_export_asked_in_the_group_arrives_privately(self, desk: Desk) -> None:
        await seed(desk)
        before = last_id(desk)
        desk.emulator.user_sends_text(desk.admin, f"/export {WEEK}", chat_id=desk.group_id)
        await desk.step()
        in_group = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        assert [m for m in in_group if "document" in m] == []
        assert len(in_group) == 1
        assert "went to Alice in a private chat" in in_group[0]["text"]
        [document] = [m for m in desk.to_user(desk.admin) if "document" in m]
        assert document["chat"]["id"] == desk.admin["id"]

    async def test_supervisor_cannot_export(self, desk: Desk) -> None:
        sue = await add_agent(desk, "Sue", "supervisor")
        before = last_id(desk)
        desk.emulator.user_sends_text(sue, "/export week", chat_id=desk.group_id)
        await desk.step()
        [answer] = [m for m in group_messages(desk, before) if m["from"]["is_bot"]]
        assert answer["text"] == "Only admins may use /export."
        assert not desk.emulator.calls_of("sendDocument")
