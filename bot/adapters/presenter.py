"""Renders texts and keyboards into outbound Telegram calls (implements the Presenter port)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from models import Customer
from models.delivery import OutboundCall


@dataclass
class Presenter:
    i18n: I18n
    agent_chat_id: int | None
    default_language: str = "en"

    def _lang(self, customer: Customer) -> str:
        return customer.language or self.default_language

    def _to_customer(self, customer: Customer, text: str, **params: object) -> OutboundCall:
        return OutboundCall(
            chat_id=customer.telegram_id,
            method="sendMessage",
            params={"chat_id": customer.telegram_id, "text": text, **params},
        )

    def welcome(self, customer: Customer) -> list[OutboundCall]:
        with self.i18n.use_locale(self._lang(customer)):
            text = _(
                "Hello, {name}! This is the support desk.\n\n"
                "Write your question here, as text, photos, files or voice messages. "
                "Every new request gets a ticket number, and our agents answer you in this chat."
                "\n\n/mytickets lists your tickets, /new starts a new request, /help shows all "
                "commands."
            ).format(name=escape(customer.first_name))
        return [self._to_customer(customer, text)]

    def help(self, customer: Customer) -> list[OutboundCall]:
        with self.i18n.use_locale(self._lang(customer)):
            text = _(
                "How it works: just write to this chat. Your first message opens a ticket; "
                "everything you send until it is closed is added to it.\n\n"
                "/new - start a new request\n"
                "/mytickets - your tickets, to view, close or reopen them\n"
                "/language - switch between English and Russian\n"
                "/help - this message"
            )
        return [self._to_customer(customer, text)]
