"""The scheduled jobs: SLA scan, automations, the group-delay notice, housekeeping, the daily
digest and the nightly retrain, each occurrence run by one worker (:func:`once_per_occurrence`),
and what keeps a worker's model and similar-tickets index current."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.adapters.presenter import Presenter
from bot.adapters.triage_model import ModelTriage
from bot.config import Settings
from bot.logs import get_logger
from bot.runtime.coordination import (
    Coordinator,
    LocalCoordinator,
)
from bot.services import groups, sla, training
from bot.services.api import prune_idempotency
from bot.services.automation import AutomationRules, automate, send_digest
from bot.services.health import warn_if_behind
from bot.services.housekeeping import prune_delivery_log
from bot.services.ports import SystemClock, UowFactory
from bot.services.similar import SimilarTickets
from triage.registry import ModelRegistry

log = get_logger(__name__)


async def retrain_and_swap(
    uow_factory: UowFactory, model_dir: Path, classifier: ModelTriage
) -> training.RetrainReport:
    """Retrain; when the candidate is promoted, start using it at once."""
    report = await training.retrain(uow_factory, model_dir)
    log.info("retrained", **report.to_dict())
    if report.promoted:
        registry = ModelRegistry(model_dir)
        model = await asyncio.to_thread(registry.load_current_compact)
        classifier.swap(model, registry.current_id())
    return report


async def follow_current_model(model_dir: Path, classifier: ModelTriage) -> None:
    """Start using the current model when another process promoted (or rolled back) one:
    several workers share a model directory, and the nightly retrain runs in one of them; so
    does ``helpdesk triage retrain|rollback`` run by hand."""
    registry = ModelRegistry(model_dir)
    current = await asyncio.to_thread(registry.current_id)
    if current is None or current == classifier.version:
        return
    try:
        # A version saved before the compact form (rolled back to by hand) is exported first.
        model = await asyncio.to_thread(training.load_current, model_dir)
    except Exception as exc:  # a half-written or incompatible model: keep the one we have
        log.warning("could not load the current model", version=current, error=str(exc))
        return
    classifier.swap(model, current)
    log.info("now using model", version=current)


async def fill_similar_index(uow_factory: UowFactory, solved: SimilarTickets) -> None:
    """Read the solved tickets into this worker's index once at start, in the background (a
    large desk takes seconds: about 18 s for 100,000 solved tickets); a lookup meanwhile
    waits for it. Later lookups read only what is new."""
    started = time.perf_counter()
    async with uow_factory(readonly=True) as uow:
        await solved.refresh(uow)
    log.info(
        "similar-tickets index ready",
        entries=len(solved.index),
        seconds=round(time.perf_counter() - started, 2),
    )


async def sla_scan(
    uow_factory: UowFactory, presenter: Presenter, zone: str, wake: Callable[[], None]
) -> None:
    """One run of the SLA job: warnings and breaches due now, each announced once."""
    notices = await sla.scan_deadlines(uow_factory, presenter, zone, SystemClock().now())
    if notices:
        log.info("sla notices", count=len(notices))
        wake()


async def group_delay(
    uow_factory: UowFactory, presenter: Presenter, wake: Callable[[], None]
) -> None:
    """Tell the agents when their group's queue is far behind (see ``warn_if_behind``), in
    the main group and in each team's own group."""
    async with uow_factory() as uow:
        chats = [presenter.agent_chat_id, *await groups.team_groups(uow)]
    for chat in chats:
        async with uow_factory() as uow:
            if await warn_if_behind(uow, presenter, chat, SystemClock().now()):
                log.info("an agents' group is behind: told it", chat_id=chat)
                wake()


async def automations(
    uow_factory: UowFactory,
    presenter: Presenter,
    rules: AutomationRules,
    wake: Callable[[], None],
) -> None:
    report = await automate(uow_factory, presenter, rules, SystemClock().now())
    if report.reminded or report.resolved or report.closed:
        log.info("automations", **vars(report))
        wake()


async def housekeeping(uow_factory: UowFactory, retention: timedelta) -> None:
    """Delete processed updates and sent calls older than the retention period."""
    now = SystemClock().now()
    report = await prune_delivery_log(uow_factory, now, retention)
    if report.inbox or report.outbox or report.shown:
        log.info("pruned the delivery log", **vars(report))
    if forgotten := await prune_idempotency(uow_factory, now):
        log.info("forgot API responses past the idempotency window", count=forgotten)


async def digest(uow_factory: UowFactory, presenter: Presenter, wake: Callable[[], None]) -> None:
    async with uow_factory() as uow:
        await send_digest(uow, presenter, SystemClock().now())
    wake()


def once_per_occurrence(
    coordinator: Coordinator,
    job_id: str,
    func: Callable[..., Awaitable[object]],
    *,
    every: float | None = None,
    zone: ZoneInfo | None = None,
) -> Callable[..., Awaitable[None]]:
    """``func`` as a job that runs once per occurrence however many workers schedule it.

    Interval jobs fire on the same ticks in every worker (their triggers start at a fixed
    moment), so an occurrence is named by its tick; daily jobs by their date. The first worker
    to claim the name runs the job, the others skip it.
    """

    async def job(*args: object) -> None:
        if every is not None:
            slot = str(int((time.time() - TICKS_FROM.timestamp()) // every))
            ttl = every * 3
        else:
            slot, ttl = datetime.now(zone).date().isoformat(), 2 * 86400.0
        if not await coordinator.claim_once(f"job:{job_id}:{slot}", ttl):
            log.debug("scheduled job run by another worker", job=job_id, slot=slot)
            return
        # A run that outlasts its interval must not overlap the next one in another worker.
        async with coordinator.lease(f"job:{job_id}", ttl=max(60.0, 2 * (every or 0))) as lease:
            if lease is None:
                log.info("scheduled job still running elsewhere", job=job_id, slot=slot)
                return
            log.debug("scheduled job runs", job=job_id, slot=slot)
            await func(*args)

    return job


#: Interval triggers count their ticks from here, so every worker fires on the same ticks.
TICKS_FROM = datetime(2020, 1, 1, tzinfo=UTC)
#: How often the delivery log is pruned.
HOUSEKEEPING_SECONDS = 3600
#: How often the agents' group's backlog is looked at (``group_delay_notice``).
GROUP_DELAY_SECONDS = 30


def make_scheduler(
    settings: Settings,
    uow_factory: UowFactory,
    classifier: ModelTriage,
    presenter: Presenter,
    wake: Callable[[], None],
    coordinator: Coordinator | None = None,
) -> AsyncIOScheduler:
    """Periodic jobs with fixed ids: re-registered at every start, nothing kept in memory;
    with several workers each occurrence runs in one of them."""
    coordinator = coordinator or LocalCoordinator()
    scheduler = AsyncIOScheduler(timezone=settings.zone)
    # A late occurrence runs once (coalesced), never two at once.
    options: dict[str, Any] = {"replace_existing": True, "coalesce": True, "max_instances": 1}

    def every(
        job_id: str, job: Callable[..., Awaitable[object]], seconds: int, *args: Any
    ) -> None:
        scheduler.add_job(
            once_per_occurrence(coordinator, job_id, job, every=seconds),
            IntervalTrigger(seconds=seconds, start_date=TICKS_FROM),
            args=list(args),
            id=job_id,
            **options,
        )

    def daily(job_id: str, job: Callable[..., Awaitable[object]], at: str, *args: Any) -> None:
        hour, minute = (int(p) for p in at.split(":"))
        scheduler.add_job(
            once_per_occurrence(coordinator, job_id, job, zone=settings.zone),
            CronTrigger(hour=hour, minute=minute, timezone=settings.zone),
            args=list(args),
            id=job_id,
            **options,
        )

    scan_args = (uow_factory, presenter, settings.timezone, wake)
    every("sla-scan", sla_scan, settings.sla_scan_seconds, *scan_args)
    rules = AutomationRules(
        remind_after=timedelta(hours=settings.remind_after_hours),
        auto_resolve_after=timedelta(hours=settings.auto_resolve_hours),
        auto_close_after=timedelta(days=settings.auto_close_days),
    )
    every(
        "automations",
        automations,
        settings.automation_seconds,
        uow_factory,
        presenter,
        rules,
        wake,
    )
    every("group-delay", group_delay, GROUP_DELAY_SECONDS, uow_factory, presenter, wake)
    retention = timedelta(days=settings.delivery_retention_days)
    every("housekeeping", housekeeping, HOUSEKEEPING_SECONDS, uow_factory, retention)
    if settings.digest_time:
        daily("daily-digest", digest, settings.digest_time, uow_factory, presenter, wake)
    daily(
        "nightly-retrain", retrain_and_swap, "03:15", uow_factory, settings.model_dir, classifier
    )
    # Every worker follows the model directory (not once per occurrence: each needs the swap).
    scheduler.add_job(
        follow_current_model,
        IntervalTrigger(seconds=60),
        args=[settings.model_dir, classifier],
        id="follow-model",
        **options,
    )
    return scheduler
