"""The keys handlers may receive as keyword arguments (aiogram dependency injection)."""

from __future__ import annotations

from pathlib import Path

from aiogram.dispatcher.middlewares.data import MiddlewareData

from bot.adapters.presenter import Presenter
from bot.config import Settings
from bot.runtime.coordination import Coordinator
from bot.services.conversation import DeskConfig
from bot.services.health import SenderCounters
from bot.services.ports import Clock, UowFactory
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from storage import AbstractUnitOfWork


class HelpdeskData(MiddlewareData, total=False):
    # Long-lived, from Dispatcher workflow_data.
    settings: Settings
    presenter: Presenter
    clock: Clock
    uow_factory: UowFactory
    desk_config: DeskConfig
    triage: Triage
    solved: SimilarTickets
    sender_counters: SenderCounters
    model_dir: Path
    coordinator: Coordinator
    # Per update: from the inbox processor (or, fed any other way, the middleware).
    uow: AbstractUnitOfWork
