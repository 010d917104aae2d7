"""Statistics and exports: ``/stats`` for supervisors and admins, ``/export`` for admins.

Both work in the agents' group (answered in the same topic) and in a private chat with the bot.
In the agents' group, people without the role get a short refusal (``bot/handlers/help.py``);
in a private chat the commands fall through, so a customer typing ``/stats`` is just writing to
their ticket.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message

from bot.adapters.presenter import Presenter
from bot.adapters.reports import ReportRenderer
from bot.config import Settings
from bot.context import HandlerContext
from bot.filters import desk_command
from bot.services import reports
from bot.services.ports import UowFactory
from models import InvalidInput


def _renderer(presenter: Presenter) -> ReportRenderer:
    return ReportRenderer(presenter.i18n, presenter.default_language)


STATS_USAGE = "usage: /stats [team <name>] [today|yesterday|week|month|YYYY-MM-DD [YYYY-MM-DD]]"


async def on_stats(
    message: Message,
    command: CommandObject,
    ctx: HandlerContext,
    uow_factory: UowFactory,
    settings: Settings,
) -> None:
    """``/stats [team <name>] [today|yesterday|week|month|YYYY-MM-DD [YYYY-MM-DD]]``: the
    summary and the chart, through the outbox."""
    args, now, zone = command.args or "", ctx.now(), settings.timezone
    words, team = args.split(), None
    if words[:1] == ["team"]:
        if len(words) < 2:
            raise InvalidInput("team", args, STATS_USAGE)
        team, words = words[1], words[2:]
    period = reports.period_from(" ".join(words), now, zone)
    asked = reports.Asked(period, team, reports.Place(*ctx.place))
    renderer = _renderer(ctx.presenter)
    await reports.stats(ctx.uow, uow_factory, renderer, ctx.actor, asked, zone, now)


async def on_export(
    message: Message,
    command: CommandObject,
    ctx: HandlerContext,
    uow_factory: UowFactory,
    settings: Settings,
) -> None:
    """``/export [period]``: the period's CSV files as one zip document."""
    now, zone = ctx.now(), settings.timezone
    period = reports.period_from(command.args or "", now, zone)
    asked = reports.Asked(period, None, reports.Place(*ctx.place))
    renderer = _renderer(ctx.presenter)
    await reports.export(ctx.uow, uow_factory, renderer, ctx.actor, asked, zone, now)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_stats, *desk_command("stats"))
    router.message.register(on_export, *desk_command("export"))
    return router
