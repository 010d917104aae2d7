"""What customers read outside a ticket's traffic: welcome, help, language, their tickets and
a ticket's view, reminders, thanks. Mixed into :class:`bot.adapters.presenter.Presenter`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.labels import (
    customer_status_label,
    media_label,
)
from bot.adapters.markup import markup
from bot.callbacks import CustomerAction, CustomerCb, LanguageCb
from models import (
    Customer,
    MessageDirection,
    Rating,
    Ticket,
    TicketMessage,
)
from models.delivery import OnSent, OutboundCall

#: The customer's view of a ticket shows its latest entries, and how many came before them.
VIEW_ENTRIES = 10


class CustomerPresenterMixin:
    """Needs the host's ``_locale``, ``_send`` and ``_to_customer``."""

    _locale: Callable[..., AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    _to_customer: Callable[..., list[OutboundCall]]

    def welcome(self, customer: Customer, custom: str | None = None) -> list[OutboundCall]:
        if custom is not None:
            text = escape(custom).format(name=escape(customer.first_name))
            return self._to_customer(customer, text)
        with self._locale(customer):
            text = _(
                "Hello, {name}! This is the support desk.\n\n"
                "Write your question here, as text, photos, files or voice messages. "
                "Every new request gets a ticket number, and our agents answer you in this chat."
                "\n\n/mytickets lists your tickets, /new starts a new request, /help shows all "
                "commands."
            ).format(name=escape(customer.first_name))
        return self._to_customer(customer, text)

    def help(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _(
                "How it works: just write to this chat. Your first message opens a ticket; "
                "everything you send until it is closed is added to it.\n\n"
                "/new - start a new request\n"
                "/mytickets - your tickets, to view, close or reopen them\n"
                "/language - switch between English and Russian\n"
                "/help - this message"
            )
        return self._to_customer(customer, text)

    def unknown_command(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _("I do not know this command. /help lists what you can do here.")
        return self._to_customer(customer, text)

    def language_menu(self, customer: Customer) -> list[OutboundCall]:
        keyboard = InlineKeyboardBuilder()
        for code, name in (("en", "English"), ("ru", "Русский")):
            keyboard.button(text=name, callback_data=LanguageCb(lang=code))
        with self._locale(customer):
            text = _("Choose your language:")
        return self._to_customer(customer, text, reply_markup=markup(keyboard))

    def language_set(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _("Done: I will write to you in English.")
        return self._to_customer(customer, text)

    def new_request_ready(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _("OK, your next message starts a new ticket. What can we help you with?")
        return self._to_customer(customer, text)

    def my_tickets(self, customer: Customer, tickets: list[Ticket]) -> list[OutboundCall]:
        with self._locale(customer):
            if not tickets:
                return self._to_customer(
                    customer,
                    _("You have no tickets yet. Write your question here to open one."),
                )
            lines = [_("Your tickets:")]
            keyboard = InlineKeyboardBuilder()
            sizes = []
            for t in tickets:
                updated = (t.updated_at or t.created_at).strftime("%Y-%m-%d %H:%M")
                lines.append(
                    f"<b>#{t.number}</b> · {customer_status_label(t.status)} · {updated} UTC\n"
                    f"{escape(t.subject)}"
                )
                keyboard.button(
                    text=_("#{number}: view").format(number=t.number),
                    callback_data=CustomerCb(a=CustomerAction.VIEW, t=t.id or 0),
                )
                sizes.append(2)
                if t.is_active:
                    keyboard.button(
                        text=_("Close"),
                        callback_data=CustomerCb(a=CustomerAction.CLOSE, t=t.id or 0),
                    )
                elif t.merged_into_id is None:
                    keyboard.button(
                        text=_("Reopen"),
                        callback_data=CustomerCb(a=CustomerAction.REOPEN, t=t.id or 0),
                    )
                else:  # merged: it lives on in another ticket, never reopened
                    sizes[-1] = 1
            keyboard.adjust(*sizes)
        return self._to_customer(customer, "\n\n".join(lines), reply_markup=markup(keyboard))

    def ticket_view(
        self, customer: Customer, ticket: Ticket, messages: list[TicketMessage]
    ) -> list[OutboundCall]:
        with self._locale(customer):
            lines = [
                _("<b>Ticket #{number}</b> · {status}").format(
                    number=ticket.number, status=customer_status_label(ticket.status)
                ),
                escape(ticket.subject),
                "",
            ]
            earlier = len(messages) - VIEW_ENTRIES
            if earlier > 0:
                lines.append(
                    "… "
                    + ngettext(
                        "{count} earlier entry is not shown.",
                        "{count} earlier entries are not shown.",
                        earlier,
                    ).format(count=earlier)
                )
            for m in messages[-VIEW_ENTRIES:]:
                who = _("You") if m.direction is MessageDirection.CUSTOMER else _("Support")
                body = escape(m.text) if m.text else f"[{media_label(m.media_kind)}]"
                lines.append(f"<b>{who}</b> ({m.sent_at:%d.%m %H:%M}): {body}")
        return self._to_customer(customer, "\n".join(lines), ticket=ticket)

    def reminder(self, customer: Customer, ticket: Ticket) -> list[OutboundCall]:
        with self._locale(customer):
            text = _(
                "We are still waiting for your answer on ticket #{number}. Just write here; "
                "if we hear nothing, we will consider the question settled."
            ).format(number=ticket.number)
        return self._to_customer(customer, text, ticket=ticket)

    def rating_thanks(
        self, customer: Customer, ticket: Ticket, rating: Rating
    ) -> list[OutboundCall]:
        with self._locale(customer):
            text = _(
                "Thank you for rating ticket #{number}: {score}/5. If you like, reply to this "
                "message with a comment."
            ).format(number=ticket.number, score=rating.score)
        [call] = self._to_customer(customer, text)
        call.on_sent, call.ref_id = OnSent.RATING_PROMPT, rating.id
        return [call]

    def comment_thanks(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            return self._to_customer(customer, _("Thank you, we passed your comment on."))

    def refused(
        self, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> list[OutboundCall]:
        with self._locale():
            text = _("Only registered agents can work on tickets here. Ask an admin to add you.")
        params: dict[str, Any] = {}
        if thread_id:
            params["message_thread_id"] = thread_id
        if reply_to:
            params["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        return self._send(chat_id, text, **params)
