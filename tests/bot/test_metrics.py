"""The metrics and health endpoint over real HTTP, after real traffic through the desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.coordination import RedisCoordinator
from bot.runtime.metrics import Metrics, serve
from models import Team
from models.delivery import OutboundCall
from models.mail import MailStatus
from tests.support.desk import Desk
from tests.support.net import free_port


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_and_health_follow_the_traffic(desk: Desk) -> None:
    metrics = Metrics(desk.sender)
    metrics.triage_seconds.observe(0.004)
    port = free_port()
    runner = await serve(metrics, desk.uow_factory, "127.0.0.1", port)
    try:
        for name in ("Ann", "Bea"):
            desk.emulator.user_sends_text(desk.emulator.add_user(name), "help me")
        await desk.step()
        desk.emulator.inject_fault("429", method="sendMessage", retry_after=1)
        desk.emulator.user_sends_text(desk.emulator.add_user("Cy"), "and me")
        await desk.step()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                text = await response.text()
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
                health = await response.json()
    finally:
        await runner.cleanup()
    found = samples(text)
    assert found[("helpdesk_tickets", (("status", "new"),))] == 3
    assert found[("helpdesk_inbox_updates", (("status", "done"),))] == 3
    assert found[("helpdesk_outbox_calls", (("status", "pending"),))] == 0
    assert found[("helpdesk_outbox_calls", (("status", "sent"),))] == desk.sender.sent_count
    assert found[("helpdesk_telegram_calls_total", ())] == desk.sender.sent_count > 0
    assert found[("helpdesk_telegram_errors_total", (("kind", "429"),))] == 1
    assert found[("helpdesk_triage_seconds_count", ())] == 1
    assert ("helpdesk_outbox_delivery_seconds", (("quantile", "0.99"),)) in found
    assert health["status"] == "ok"
    assert health["outbox_pending"] == 0
    assert health["sent_since_start"] == desk.sender.sent_count
    assert (health["team_groups"], health["mail_pending"], health["mail_parked"]) == ([], 0, 0)


async def test_team_groups_and_mails_have_their_gauges(desk: Desk) -> None:
    """A team's own group's queue and the email channel's mails, in /metrics and /health."""
    team_group = desk.emulator.add_supergroup("Billing agents", is_forum=True)
    now = datetime.now(UTC)
    async with desk.uow_factory() as uow:
        team = await uow.teams.add(Team(name="Billing"))
        team.group_chat_id = team_group["id"]
        await uow.outbox.add(
            OutboundCall(team_group["id"], "sendMessage", {"text": "x"}),
            now - timedelta(seconds=90),
        )
        parked = await uow.mail.store("<lost@example.com>", b"x", now)
        await uow.mail.settle(parked.id, MailStatus.PARKED, now)
        await uow.mail.store("<new@example.com>", b"x", now)
        await uow.commit()
    metrics = Metrics(desk.sender)
    port = free_port()
    runner = await serve(metrics, desk.uow_factory, "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                found = samples(await response.text())
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                health = await response.json()
    finally:
        await runner.cleanup()
    group = (("group", str(team_group["id"])),)
    assert found[("helpdesk_team_group_queued_calls", group)] == 1
    assert found[("helpdesk_team_group_behind_seconds", group)] >= 90
    assert found[("helpdesk_mail_messages", (("status", "parked"),))] == 1
    assert found[("helpdesk_mail_messages", (("status", "pending"),))] == 1
    [shown] = health["team_groups"]
    assert (shown["group"], shown["teams"], shown["queued"]) == (team_group["id"], ["Billing"], 1)
    assert (health["mail_pending"], health["mail_parked"]) == (1, 1)


async def test_health_names_the_worker_and_fails_when_redis_is_gone(desk: Desk) -> None:
    # A Redis nobody listens on: the worker's shared state is unreachable, so it is not healthy.
    gone = RedisCoordinator(f"redis://127.0.0.1:{free_port()}/0", prefix="t", worker="w7")
    port = free_port()
    runner = await serve(
        Metrics(desk.sender), desk.uow_factory, "127.0.0.1", port, coordinator=gone, worker="w7"
    )
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as response,
        ):
            assert response.status == 503
            body = await response.json()
    finally:
        await runner.cleanup()
        await gone.close()
    assert body["status"] == "error"
    assert "Connection" in body["error"] or "connect" in body["error"].lower()

    runner = await serve(Metrics(desk.sender), desk.uow_factory, "127.0.0.1", port, worker="w1")
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as response,
        ):
            body = await response.json()
    finally:
        await runner.cleanup()
    assert body["worker"] == "w1"
    assert body["shared"] is False
