"""Prometheus metrics and a health endpoint, served by aiohttp next to the bot.

Queue depths, ticket counts and delivery latencies are read from the database when scraped,
so they are right whichever process did the work; counters of this process (Telegram calls,
errors by kind, triage latency) live in memory since its start.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.logs import get_logger
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.services.health import Health, SenderCounters, queue_state, team_backlogs
from bot.services.ports import UowFactory

log = get_logger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_WINDOW = timedelta(minutes=5)


class _SenderCollector(Collector):
    """The sender's own counters, read at scrape time."""

    def __init__(self, counters: SenderCounters) -> None:
        self.counters = counters

    def collect(self) -> Iterable[Metric]:
        sent = CounterMetricFamily(
            "helpdesk_telegram_calls", "Bot API calls Telegram accepted since start"
        )
        sent.add_metric([], self.counters.sent_count)
        yield sent
        unchanged = CounterMetricFamily(
            "helpdesk_telegram_edits_skipped",
            "Edits not sent since start because the message already showed what they asked",
        )
        unchanged.add_metric([], self.counters.unchanged_skipped)
        yield unchanged
        errors = CounterMetricFamily(
            "helpdesk_telegram_errors", "Bot API errors since start, by kind", labels=["kind"]
        )
        for kind, count in sorted(self.counters.errors.items()):
            errors.add_metric([kind], count)
        yield errors


class Metrics:
    def __init__(self, counters: SenderCounters, *, agent_chat_id: int | None = None) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_SenderCollector(counters))
        self.counters = counters
        self.agent_chat_id = agent_chat_id
        self.triage_seconds = Histogram(
            "helpdesk_triage_seconds",
            "Time to classify a new ticket",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.inbox = Gauge(
            "helpdesk_inbox_updates",
            "Stored updates by status",
            ["status"],
            registry=self.registry,
        )
        self.inbox_oldest = Gauge(
            "helpdesk_inbox_oldest_pending_seconds",
            "Age of the oldest update not processed yet",
            registry=self.registry,
        )
        self.outbox = Gauge(
            "helpdesk_outbox_calls", "Outbox calls by status", ["status"], registry=self.registry
        )
        self.outbox_oldest = Gauge(
            "helpdesk_outbox_oldest_pending_seconds",
            "Age of the oldest call not sent yet",
            registry=self.registry,
        )
        self.outbox_latency = Gauge(
            "helpdesk_outbox_delivery_seconds",
            "Queueing to sending, over the calls sent in the last five minutes",
            ["quantile"],
            registry=self.registry,
        )
        self.group_behind = Gauge(
            "helpdesk_agents_group_behind_seconds",
            "How long the oldest call waiting for the agents' group has waited",
            registry=self.registry,
        )
        self.team_group_queued = Gauge(
            "helpdesk_team_group_queued_calls",
            "Calls waiting for a team's own agents' group",
            ["group"],
            registry=self.registry,
        )
        self.team_group_behind = Gauge(
            "helpdesk_team_group_behind_seconds",
            "How long the oldest call waiting for a team's own agents' group has waited",
            ["group"],
            registry=self.registry,
        )
        self.mails = Gauge(
            "helpdesk_mail_messages",
            "Incoming mails of the email channel by status",
            ["status"],
            registry=self.registry,
        )
        self.tickets = Gauge(
            "helpdesk_tickets", "Tickets by status", ["status"], registry=self.registry
        )

    async def refresh(self, uow_factory: UowFactory, now: datetime) -> Health:
        async with uow_factory(readonly=True) as uow:
            state = await queue_state(uow, self.counters, now, self.agent_chat_id)
            state = replace(state, team_groups=await team_backlogs(uow, now))
            mails = await uow.mail.counts()
            inbox = await uow.inbox.counts()
            outbox = await uow.outbox.stats(now)
            latencies = await uow.outbox.delivery_seconds(now - LATENCY_WINDOW)
            tickets = await uow.tickets.count_by_status()
        for status, count in inbox.items():
            self.inbox.labels(status).set(count)
        self.inbox_oldest.set(state.inbox_oldest_pending_s)
        for status in ("pending", "sent", "failed", "unknown"):
            self.outbox.labels(status).set(int(outbox[status]))  # type: ignore[call-overload]
        self.outbox_oldest.set(state.outbox_oldest_pending_s)
        self.group_behind.set(state.agents_group_behind_s)
        self.team_group_queued.clear()
        self.team_group_behind.clear()
        for group in state.team_groups:
            self.team_group_queued.labels(str(group.chat_id)).set(group.queued)
            self.team_group_behind.labels(str(group.chat_id)).set(group.behind_s)
        for status, count in mails.items():
            self.mails.labels(status).set(count)
        for quantile, value in _quantiles(latencies).items():
            self.outbox_latency.labels(quantile).set(value)
        for status, count in tickets.items():
            self.tickets.labels(status).set(count)
        return state

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"0.5": 0.0, "0.99": 0.0}
    if len(values) == 1:
        return {"0.5": values[0], "0.99": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"0.5": cuts[49], "0.99": cuts[98]}


def make_app(
    metrics: Metrics,
    uow_factory: UowFactory,
    coordinator: Coordinator | None = None,
    worker: str = "",
) -> web.Application:
    coordinator = coordinator or LocalCoordinator()

    async def scrape(_request: web.Request) -> web.Response:
        await metrics.refresh(uow_factory, datetime.now(UTC))
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def health(_request: web.Request) -> web.Response:
        try:
            state = await metrics.refresh(uow_factory, datetime.now(UTC))
            await coordinator.ping()
        except Exception as exc:  # the database (or Redis) is unreachable: say so, with a 503
            log.warning("health check failed", error=str(exc))
            failed = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            return web.json_response(failed, status=503, dumps=json.dumps)
        body: dict[str, object] = {
            "status": "ok",
            "inbox_pending": state.inbox_pending,
            "inbox_parked": state.inbox_parked,
            "inbox_oldest_pending_s": round(state.inbox_oldest_pending_s, 3),
            "outbox_pending": state.outbox_pending,
            "outbox_oldest_pending_s": round(state.outbox_oldest_pending_s, 3),
            "outbox_failed": state.outbox_failed,
            "outbox_unknown": state.outbox_unknown,
            "agents_group_queued": state.agents_group_queued,
            "agents_group_behind_s": round(state.agents_group_behind_s, 3),
            "team_groups": [
                {
                    "group": group.chat_id,
                    "teams": list(group.teams),
                    "queued": group.queued,
                    "behind_s": round(group.behind_s, 3),
                }
                for group in state.team_groups
            ],
            "mail_pending": state.mail_pending,
            "mail_parked": state.mail_parked,
            "sent_since_start": state.sent_since_start,
            "worker": worker,
            "shared": coordinator.shared,
        }
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/health", health)
    return app


async def serve(
    metrics: Metrics,
    uow_factory: UowFactory,
    host: str,
    port: int,
    *,
    coordinator: Coordinator | None = None,
    worker: str = "",
) -> web.AppRunner:
    """Start the endpoint; the caller cleans the runner up on shutdown."""
    app = make_app(metrics, uow_factory, coordinator, worker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics endpoint up", host=host, port=port)
    return runner
