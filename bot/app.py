"""Composition root: builds every long-lived object, runs the loops, cleans up."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError

from bot import commands, startup
from bot.adapters.delivery import DeliveryAdapter
from bot.adapters.files import TelegramFiles
from bot.adapters.presenter import Presenter
from bot.adapters.triage_model import ModelTriage
from bot.api.app import ApiDeps
from bot.api.app import serve as serve_api
from bot.api.csat import RatingDeps
from bot.api.widget import WidgetDeps
from bot.config import Settings
from bot.jobs import fill_similar_index, make_scheduler
from bot.logs import get_logger
from bot.middlewares.responses import KeepResponseModels
from bot.routers import build_routers
from bot.runtime import heap
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
from bot.runtime.widget_poster import WidgetHub, WidgetPoster
from bot.services import agent_chat, agents, groups, training
from bot.services.conversation import DeskConfig
from bot.services.health import SenderCounters
from bot.services.ports import Clock, SystemClock, UowFactory
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from bot.texts import make_i18n
from models.csat import RatingLinks, link_key
from storage import make_engine
from storage import uow_factory as storage_uow_factory

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


def rating_links_from(settings: Settings) -> RatingLinks | None:
    """Rating links when customers can reach the API's server (its port and public URL set);
    signed with a key derived from the bot token, which every worker has."""
    if not (settings.api_port and settings.public_url and settings.bot_token is not None):
        return None
    return RatingLinks(settings.public_url, link_key(settings.bot_token.get_secret_value()))


def desk_config_from(settings: Settings, *, is_forum: bool) -> DeskConfig:
    assert settings.agent_chat_id is not None
    return DeskConfig(
        agent_chat_id=settings.agent_chat_id,
        agent_chat_is_forum=is_forum,
        reopen_window=timedelta(hours=settings.reopen_window_hours),
        sign_replies=settings.sign_replies,
        default_language=settings.default_language,
        zone=settings.timezone,
        rating_links=rating_links_from(settings),
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
        rating_links=config.rating_links,
    )


def make_sender(
    bot: Bot,
    uow_factory: UowFactory,
    settings: Settings,
    delivery: DeliveryAdapter,
    coordinator: Coordinator | None = None,
    hub: WidgetHub | None = None,
) -> Sender:
    """The outbox's sender; ``hub`` wakes the chat widget's readers of a stored text."""
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
        widget=WidgetPoster(uow_factory, hub or WidgetHub(), mail=settings.email is not None),
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
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    webhook: bool = False,
    mail_in: Callable[[MailIntake], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``), then shut down cleanly; ``webhook``: receive
    updates on the webhook endpoint instead of long polling; ``mail_in``: the email channel's
    intake is handed to it instead of reading the mailbox over IMAP (the sandbox's pretend
    mailbox hands it the mails written in its page)."""
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
    hub = WidgetHub()
    started = False  # a refused start says one line, not "stopped" after it
    try:
        # Configuration first (exit 2 at once when wrong), then the services that may be late.
        me = await startup.check_token(bot, stop)
        assert settings.agent_chat_id is not None
        chat_check = await startup.check_agent_chat(bot, settings.agent_chat_id, stop)
        if settings.email is not None and mail_in is None:
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
            bot, uow_factory, settings, DeliveryAdapter(i18n, presenter), coordinator, hub
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
        if reader is not None and mail_in is not None:
            mail_in(reader)
        elif reader is not None:
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
            chat_widget = None
            if settings.widget_origins:
                chat_widget = WidgetDeps(
                    uow_factory,
                    presenter,
                    classifier,
                    config,
                    settings.widget_origins,
                    hub,
                    rate_per_min=settings.widget_rate_per_min,
                    quota=coordinator,
                    solved=solved,
                    wake=sender.wake,
                )
            rating = None
            if config.rating_links is not None:
                rating = RatingDeps(
                    uow_factory,
                    presenter,
                    i18n,
                    config.rating_links,
                    default_language=settings.default_language,
                    wake=sender.wake,
                )
            api_runner = await serve_api(
                api_deps, settings.api_host, settings.api_port, chat_widget, rating
            )
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        heap.settle()  # start-up's heap out of the collector's way (no 100 ms pauses later)
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
            hub.close()  # the chat widget's long polls answer now, not in up to 25 s
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
