"""The help desk's Telegram side: handlers, services, runtime loops, CLI."""

from bot.lazy_aiogram import import_aiogram_lazily

# Before anything below imports aiogram: its types are built on first use (see the module).
import_aiogram_lazily()
