"""Composition root: builds every long-lived object, runs the loops, cleans up."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError

from bot import commands, startup
from bot.adapters.delivery import DeliveryAdapter
from bot.adapters.files import TelegramFiles
from bot.adapters.presenter import Presenter
from bot.adapters.triage_model import ModelTriage
from bot.api.app import ApiDeps
from bot.api.app import serve as serve_api
from bot.config import Settings
from bot.logs import get_logger
from bot.middlewares.responses import KeepResponseModels
from bot.routers import build_routers
from bot.runtime.coordination import (
    Coordinator,
    LocalCoordinator,
    make_coordinator,
)
from bot.runtime.intake import Intake
from bot.runtime.mail_intake import MailDesk, MailIntake
from bot.runtime.mail_poster import MailPoster
from bot.runtime.metrics import Metrics
from bot.runtime.metrics import serve as serve_metrics
from bot.runtime.processor import Processor
from bot.runtime.sender import RateLimits, Sender
from bot.runtime.telegram_webhook import WebhookIntake, webhook_path
from bot.runtime.telegram_webhook import serve as serve_webhook
from bot.runtime.webhook_poster import WebhookPolicy, WebhookPoster
from bot.services import agent_chat, agents, groups, sla, training
from bot.services.api import prune_idempotency
from bot.services.automation import AutomationRules, automate, send_digest
from bot.services.conversation import DeskConfig
from bot.services.health import SenderCounters, warn_if_behind
from bot.services.housekeeping import prune_delivery_log
from bot.services.ports import Clock, SystemClock, UowFactory
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from bot.texts import make_i18n
from storage import make_engine
from storage import uow_factory as storage_uow_factory
from triage.registry import ModelRegistry

log = get_logger(__name__)


def make_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """The Bot as production uses it; tests pass an in-process ``session``."""
    assert settings.bot_token is not None
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(KeepResponseModels())
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    settings: Settings,
    uow_factory: UowFactory,
    presenter: Presenter,
    desk_config: DeskConfig,
    *,
    triage: Triage,
    clock: Clock | None = None,
    sender_counters: SenderCounters | None = None,
    model_dir: Path | None = None,
    coordinator: Coordinator | None = None,
    solved: SimilarTickets | None = None,
) -> Dispatcher:
    """The Dispatcher with its long-lived dependencies in ``workflow_data``."""
    dp = Dispatcher(
        coordinator=coordinator or LocalCoordinator(),
        settings=settings,
        sender_counters=sender_counters,
        model_dir=model_dir or settings.model_dir,
        presenter=presenter,
        desk_config=desk_config,
        triage=triage,
        solved=solved or SimilarTickets(),
        clock=clock or SystemClock(),
        uow_factory=uow_factory,
    )
    dp.include_router(build_routers(settings))
    return dp


def desk_config_from(settings: Settings, *, is_forum: bool) -> DeskConfig:
    assert settings.agent_chat_id is not None
    return DeskConfig(
        agent_chat_id=settings.agent_chat_id,
        agent_chat_is_forum=is_forum,
        reopen_window=timedelta(hours=settings.reopen_window_hours),
        sign_replies=settings.sign_replies,
        default_language=settings.default_language,
        zone=settings.timezone,
    )


def make_presenter(i18n: I18n, config: DeskConfig) -> Presenter:
    return Presenter(
        i18n,
        config.agent_chat_id,
        default_language=config.default_language,
        agent_chat_is_forum=config.agent_chat_is_forum,
        sign_replies=config.sign_replies,
        zone=config.zone,
        reopen_window=config.reopen_window,
    )


def make_sender(
    bot: Bot,
    uow_factory: UowFactory,
    settings: Settings,
    delivery: DeliveryAdapter,
    coordinator: Coordinator | None = None,
) -> Sender:
    limits = RateLimits(
        settings.rate_private_per_s, settings.rate_group_per_min, settings.rate_global_per_s
    )
    return Sender(
        bot,
        uow_factory,
        limits,
        resolve=delivery.resolve,
        on_sent=delivery.on_sent,
        on_failed=delivery.on_failed,
        coalesce=delivery.coalesce,
        on_absorbed=delivery.absorbed,
        request_timeout=settings.request_timeout,
        webhooks=WebhookPoster(webhook_policy(settings)),
        mail=mail_poster(settings, bot),
        coordinator=coordinator,
    )


def mail_poster(settings: Settings, bot: Bot) -> MailPoster | None:
    """The SMTP side of the email channel (None: the channel is off); files agents send to
    email customers are fetched through ``bot``."""
    email = settings.email
    if email is None:
        return None
    files = TelegramFiles(bot, settings.data_dir / "mail-files", cache_bytes=MAIL_FILES_CACHE)
    return MailPoster(email.smtp, email.sender, email.address, files=files)


#: Files of replies to email customers kept on disk (for retries), at most this much.
MAIL_FILES_CACHE = 256 * 1024 * 1024


def mail_intake(
    settings: Settings,
    uow_factory: UowFactory,
    presenter: Presenter,
    triage: Triage,
    config: DeskConfig,
    *,
    solved: SimilarTickets | None = None,
    wake: Callable[[], None] = lambda: None,
) -> MailIntake | None:
    """The IMAP side of the email channel (None: the channel is off)."""
    email = settings.email
    if email is None:
        return None
    desk = MailDesk(presenter, triage, config, email.address, solved)
    return MailIntake(
        email.imap, uow_factory, desk, poll_seconds=email.poll_seconds, on_applied=wake
    )


def webhook_policy(settings: Settings) -> WebhookPolicy:
    return WebhookPolicy(
        timeout=settings.webhook_timeout,
        max_age=timedelta(hours=settings.webhook_retry_hours),
        max_attempts=settings.webhook_max_attempts,
    )


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
    scheduler.add_job(
        once_per_occurrence(coordinator, "sla-scan", sla_scan, every=settings.sla_scan_seconds),
        IntervalTrigger(seconds=settings.sla_scan_seconds, start_date=TICKS_FROM),
        args=[uow_factory, presenter, settings.timezone, wake],
        id="sla-scan",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    rules = AutomationRules(
        remind_after=timedelta(hours=settings.remind_after_hours),
        auto_resolve_after=timedelta(hours=settings.auto_resolve_hours),
        auto_close_after=timedelta(days=settings.auto_close_days),
    )
    scheduler.add_job(
        once_per_occurrence(
            coordinator, "automations", automations, every=settings.automation_seconds
        ),
        IntervalTrigger(seconds=settings.automation_seconds, start_date=TICKS_FROM),
        args=[uow_factory, presenter, rules, wake],
        id="automations",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        once_per_occurrence(coordinator, "group-delay", group_delay, every=GROUP_DELAY_SECONDS),
        IntervalTrigger(seconds=GROUP_DELAY_SECONDS, start_date=TICKS_FROM),
        args=[uow_factory, presenter, wake],
        id="group-delay",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        once_per_occurrence(coordinator, "housekeeping", housekeeping, every=HOUSEKEEPING_SECONDS),
        IntervalTrigger(seconds=HOUSEKEEPING_SECONDS, start_date=TICKS_FROM),
        args=[uow_factory, timedelta(days=settings.delivery_retention_days)],
        id="housekeeping",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    if settings.digest_time:
        hour, minute = (int(p) for p in settings.digest_time.split(":"))
        scheduler.add_job(
            once_per_occurrence(coordinator, "daily-digest", digest, zone=settings.zone),
            CronTrigger(hour=hour, minute=minute, timezone=settings.zone),
            args=[uow_factory, presenter, wake],
            id="daily-digest",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
    scheduler.add_job(
        once_per_occurrence(coordinator, "nightly-retrain", retrain_and_swap, zone=settings.zone),
        CronTrigger(hour=3, minute=15, timezone=settings.zone),
        args=[uow_factory, settings.model_dir, classifier],
        id="nightly-retrain",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    # Every worker follows the model directory (not once per occurrence: each needs the swap).
    scheduler.add_job(
        follow_current_model,
        IntervalTrigger(seconds=60),
        args=[settings.model_dir, classifier],
        id="follow-model",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    return scheduler


async def prepare_desk(
    uow_factory: UowFactory,
    admin_ids: list[int],
    team_map: dict[str, str],
    presenter: Presenter,
    now: datetime,
) -> None:
    """The start-up writes: first admins, the model's teams and categories, the triage topic.

    Each checks before it writes, but workers starting together can both find a row missing
    and both insert it: the one that loses (a unique key the other just wrote) reads again and
    finds the work done.
    """
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            async with uow_factory() as uow:
                await agents.ensure_admins(uow, admin_ids, now)
            async with uow_factory() as uow:
                await training.ensure_taxonomy(uow, team_map)
            async with uow_factory() as uow:
                await training.ensure_triage_topic(uow, presenter, now)
            return
        except IntegrityError as exc:
            if attempt == STARTUP_ATTEMPTS:
                raise
            log.info("another worker prepared the desk first; reading again", error=str(exc))
            await asyncio.sleep(0.05 * attempt)


STARTUP_ATTEMPTS = 5


async def as_leader(
    coordinator: Coordinator, key: str, work: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Run ``work`` while this worker holds the lease ``key``; otherwise wait for it."""
    while True:
        async with coordinator.lease(key, ttl=30.0) as lease:
            if lease is not None:
                log.info("leading", lease=key)
                working = asyncio.create_task(work())
                lost = asyncio.create_task(lease.lost.wait())
                try:
                    await asyncio.wait([working, lost], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (working, lost):
                        task.cancel()
                    await asyncio.gather(working, lost, return_exceptions=True)
                if not lost.cancelled() and lost.done():
                    log.warning("no longer leading", lease=key)
        await asyncio.sleep(5.0)


async def start_webhook(
    bot: Bot,
    settings: Settings,
    uow_factory: UowFactory,
    allowed_updates: list[str],
    processor: Processor,
) -> web.AppRunner:
    """Serve the webhook endpoint, then tell Telegram about it (in that order: no update is
    posted before we can store it)."""
    assert settings.telegram_webhook_url is not None
    assert settings.telegram_webhook_secret is not None
    secret = settings.telegram_webhook_secret.get_secret_value()
    intake = WebhookIntake(uow_factory, secret, on_stored=processor.wake)
    runner = await serve_webhook(
        intake,
        webhook_path(settings.telegram_webhook_url),
        settings.telegram_webhook_host,
        settings.telegram_webhook_port,
    )
    await bot.set_webhook(
        settings.telegram_webhook_url,
        secret_token=secret,
        allowed_updates=allowed_updates,
        drop_pending_updates=False,
    )
    return runner


async def run_bot(
    settings: Settings, stop: asyncio.Event | None = None, *, webhook: bool = False
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``), then shut down cleanly; ``webhook``: receive
    updates on the webhook endpoint instead of long polling."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    engine = make_engine(settings.database_url)
    uow_factory = storage_uow_factory(engine)
    bot = make_bot(settings)
    coordinator = make_coordinator(
        settings.redis_url.get_secret_value() if settings.redis_url else None,
        prefix=settings.redis_prefix,
        worker=settings.worker_name,
    )
    tasks: list[asyncio.Task[None]] = []
    warm_up: asyncio.Task[None] | None = None
    scheduler: AsyncIOScheduler | None = None
    sender: Sender | None = None
    metrics_runner: web.AppRunner | None = None
    api_runner: web.AppRunner | None = None
    webhook_runner: web.AppRunner | None = None
    started = False  # a refused start says one line, not "stopped" after it
    try:
        # Configuration first (exit 2 at once when wrong), then the services that may be late.
        me = await startup.check_token(bot, stop)
        assert settings.agent_chat_id is not None
        chat_check = await startup.check_agent_chat(bot, settings.agent_chat_id, stop)
        if settings.email is not None:
            await startup.check_mailbox(settings.email.imap, stop)
        await startup.upgrade_database(
            settings.database_url, str(settings.masked()["HELPDESK_DATABASE_URL"]), stop
        )
        await startup.reach_redis(coordinator, stop)
        log.info(
            "bot started",
            username=me.username,
            id=me.id,
            worker=settings.worker_name,
            shared=coordinator.shared,
            mode=chat_check.mode,
        )
        started = True

        i18n = make_i18n(settings.default_language)
        I18n.set_current(i18n)
        config = desk_config_from(settings, is_forum=chat_check.forum)
        presenter = make_presenter(i18n, config)
        sender = make_sender(
            bot, uow_factory, settings, DeliveryAdapter(i18n, presenter), coordinator
        )

        model, version, note = await asyncio.to_thread(training.load_or_train, settings.model_dir)
        log.info("triage model ready", version=version, note=note)
        metrics = Metrics(sender, agent_chat_id=settings.agent_chat_id)
        classifier = ModelTriage(model, version, observe=metrics.triage_seconds.observe)
        if settings.metrics_port:
            metrics_runner = await serve_metrics(
                metrics,
                uow_factory,
                settings.metrics_host,
                settings.metrics_port,
                coordinator=coordinator,
                worker=settings.worker_name,
            )
        solved = SimilarTickets()
        dp = build_dispatcher(
            settings,
            uow_factory,
            presenter,
            config,
            triage=classifier,
            sender_counters=sender,
            model_dir=settings.model_dir,
            coordinator=coordinator,
            solved=solved,
        )
        warm_up = asyncio.create_task(fill_similar_index(uow_factory, solved), name="similar")

        await prepare_desk(
            uow_factory, settings.admin_ids, model.team_map or {}, presenter, SystemClock().now()
        )
        async with uow_factory() as uow:
            await agent_chat.announce_shortfalls(uow, presenter, chat_check, SystemClock().now())
        async with uow_factory(readonly=True) as uow:
            staff = await agents.staff(uow)
            chats = [settings.agent_chat_id, *await groups.team_groups(uow)]
        await commands.publish(bot, i18n, chats, staff, settings.default_language)
        scheduler = make_scheduler(
            settings, uow_factory, classifier, presenter, sender.wake, coordinator
        )
        scheduler.start()

        processor = Processor(
            dp, bot, uow_factory, on_processed=sender.wake, coordinator=coordinator
        )
        allowed = dp.resolve_used_update_types()
        if webhook:
            webhook_runner = await start_webhook(bot, settings, uow_factory, allowed, processor)
        else:
            # A webhook left from an earlier run would make getUpdates fail with a conflict.
            await bot.delete_webhook(drop_pending_updates=False)
            intake = Intake(
                bot,
                uow_factory,
                allowed_updates=allowed,
                timeout=settings.polling_timeout,
                on_stored=processor.wake,
            )
            # Several workers: one of them polls (whoever holds the lease); Telegram allows one.
            polling = (
                as_leader(coordinator, "intake:polling", intake.run)
                if coordinator.shared
                else intake.run()
            )
            tasks.append(asyncio.create_task(polling, name="intake"))
        reader = mail_intake(
            settings, uow_factory, presenter, classifier, config, solved=solved, wake=sender.wake
        )
        if reader is not None:
            # Several workers: one of them reads the mailbox (whoever holds the lease).
            reading = (
                as_leader(coordinator, "intake:mail", reader.run)
                if coordinator.shared
                else reader.run()
            )
            tasks.append(asyncio.create_task(reading, name="mail"))
        if settings.api_port:
            api_deps = ApiDeps(
                uow_factory,
                presenter,
                zone=settings.timezone,
                rate_per_min=settings.api_rate_per_min,
                wake=sender.wake,
                files=TelegramFiles(bot, settings.data_dir / "api-files"),
                quota=coordinator,
            )
            api_runner = await serve_api(api_deps, settings.api_host, settings.api_port)
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        tasks += [
            asyncio.create_task(processor.run(), name="processor"),
            asyncio.create_task(sender.run(), name="sender"),
        ]
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for task in done:
            if task is not stopper and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        log.info("stopping")
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
    except startup.Stopped as waiting_for:
        log.info("stopped while waiting", service=str(waiting_for))
    finally:
        # Intake first (nothing new comes in), then the processor (an interrupted update rolls
        # back and stays in the inbox), then the sender (drains calls already on the wire).
        if webhook_runner is not None:
            await webhook_runner.cleanup()
        if api_runner is not None:
            await api_runner.cleanup()
        for task in [*tasks, *([warm_up] if warm_up is not None else [])]:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if sender is not None:
            await sender.close()
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await bot.session.close()
        await coordinator.close()
        await engine.dispose()
        if started:
            log.info("stopped")
