"""What the desk writes to a customer, on the customer's channel: a Telegram message, or a mail
to an email customer. Mixed into :class:`bot.adapters.presenter.Presenter`.

Every text to a customer goes through :meth:`MailPresenterMixin._to_customer`, so a text
written for Telegram reaches an email customer as a mail (without its buttons, which a mail
cannot carry), threaded into the ticket's conversation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import media_label
from models import Agent, Customer, MediaKind, Ticket, TicketMessage
from models.csat import SCORES, RatingLinks
from models.delivery import Channel, OnSent, OutboundCall, Ref, RefKind
from models.mail import MailFile, mail_call, reply_subject
from models.widget import plain_text, widget_call


class MailPresenterMixin:
    """Needs the host's ``agent_chat_id``, ``group_of``, ``to_topic``, ``_locale``, ``_send``
    and ``_agents_place``."""

    agent_chat_id: int
    group_of: Callable[[Ticket], int]
    to_topic: Callable[[Ticket, str], list[OutboundCall]]
    _locale: Callable[..., contextlib.AbstractContextManager[Any]]
    _send: Callable[..., list[OutboundCall]]
    _agents_place: Callable[[Ticket], dict[str, Any]]
    rating_links: RatingLinks | None

    def _to_customer(
        self,
        customer: Customer,
        text: str,
        *,
        ticket: Ticket | None = None,
        auto: bool = True,
        attach: tuple[str, str] | None = None,
        **params: Any,
    ) -> list[OutboundCall]:
        """``text`` (HTML as Telegram reads it) to ``customer``: in their chat with ``params``
        (buttons, reply parameters), as a mail, or in a visitor's widget (as plain text,
        without buttons). ``auto``: the desk's own notice rather than a person's reply;
        ``attach``: a file from the topic for the mail (see :func:`models.mail.mail_call`)."""
        if customer.visitor:
            shown = plain_text(text)
            if attach is not None:  # the widget shows texts only: it names the file
                with self._locale(customer):
                    named = "📎 " + media_label(MediaKind(attach[1]))
                shown = f"{shown}\n\n{named}" if shown else named
            ticket_id = ticket.id if ticket is not None else None
            away = None if auto else self._away_mail(customer, text, ticket)
            return [widget_call(customer.id or 0, shown, ticket_id, away)]
        if customer.email is None:
            return self._send(customer.telegram_id, text, ticket=ticket, **params)
        subject = reply_subject(ticket.subject, ticket.number or 0) if ticket is not None else ""
        return [
            mail_call(
                customer.id or 0,
                customer.email,
                customer.display_name,
                subject=subject,
                html=text,
                ticket_id=ticket.id if ticket is not None else None,
                auto=auto,
                attach=attach,
            )
        ]

    def _away_mail(self, customer: Customer, text: str, ticket: Ticket | None) -> dict[str, str]:
        """A person's reply to a visitor, as the mail they get if they are away (see
        :class:`bot.runtime.widget_poster.WidgetPoster`); answering it by mail would open a
        request of its own, so it asks them to answer in the chat."""
        with self._locale(customer):
            footer = _("Please answer in the chat on our website, where this reply waits too.")
        subject = reply_subject(ticket.subject, ticket.number or 0) if ticket is not None else ""
        html = f"{text}\n\n<i>{escape(footer)}</i>"
        return {"subject": subject, "html": html, "name": customer.display_name}

    def _registered_text(self, customer: Customer) -> str:
        """The "ticket opened" answer on the customer's channel (``{number}`` to fill)."""
        if customer.email is not None:
            return _(
                "Your request is registered as ticket #{number}. An agent will answer you "
                "by email; reply to this message to add details."
            )
        if customer.visitor:
            return _(
                "Your request is registered as ticket #{number}. An agent will answer you "
                "here; if you leave, the answer waits for you in this chat."
            )
        return _(
            "Your request is registered as ticket #{number}. An agent will answer you "
            "here; you can add details or files at any time by writing to this chat."
        )

    def _resolved_text(self, customer: Customer) -> str:
        """The "resolved" notice where no button can reopen the ticket (a mail, the widget)."""
        if customer.visitor:
            return _(
                "Ticket #{number} is resolved. If something is still wrong, just write here again."
            )
        return _(
            "Ticket #{number} is resolved. If something is still wrong, just reply "
            "to this message."
        )

    def _rating_invitation(self, customer: Customer, ticket: Ticket) -> str:
        """The rating links of a "resolved" mail (nothing for a visitor, or without links):
        one per score, to a page that asks once more before it records (mail scanners open
        links on their own; see bot/api/csat.py)."""
        links = self.rating_links
        if links is None or customer.email is None or customer.visitor or ticket.id is None:
            return ""
        stars = " · ".join(
            f'<a href="{escape(links.url(ticket.id, score))}">{score} ⭐</a>' for score in SCORES
        )
        return "\n\n" + _("How did we do? Rate the help you got:") + "\n" + stars

    def _send_recorded(
        self,
        customer: Customer,
        text: str,
        ticket: Ticket,
        message: TicketMessage,
        **params: Any,
    ) -> list[OutboundCall]:
        """``text`` to the customer as the copy of ``message``, a person's reply (split when
        long; the first part is the copy replies and edits refer to). A mail (or a widget's
        text) is one piece, and nothing refers to it later."""
        if customer.channel is not Channel.TELEGRAM:
            return self._to_customer(customer, text, ticket=ticket, auto=False)
        calls = self._send(customer.telegram_id, text, ticket=ticket, **params)
        calls[0].on_sent, calls[0].ref_id = OnSent.COPIED_TO_CUSTOMER, message.id
        return calls

    def mail_files(
        self, ticket: Ticket, message: TicketMessage, files: tuple[MailFile, ...]
    ) -> list[OutboundCall]:
        """A mail's attached files in the ticket's topic, as documents (read from the stored
        mail when they are sent; files Telegram would not take are only named in the text)."""
        chat = self.group_of(ticket)
        return [
            OutboundCall(
                chat_id=chat,
                method="sendDocument",
                params={
                    "chat_id": chat,
                    "document": Ref(RefKind.MAIL_FILE, message.customer_message_id, part=f.part),
                    **self._agents_place(ticket),
                },
                ticket_id=ticket.id,
            )
            for f in files
            if f.shown
        ]

    def _mail_reply(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        *,
        signed: bool,
    ) -> list[OutboundCall]:
        """An agent's reply to an email customer: its text (a caption, for media) as a mail,
        with the file from the topic attached when it is sent."""
        text = escape(message.text or "")
        if signed:
            text += f"\n\n— {escape(agent.name.split()[0])}"
        attach = None
        if message.file_id and message.media_kind is not MediaKind.TEXT:
            attach = (message.file_id, str(message.media_kind))
        return self._to_customer(customer, text, ticket=ticket, auto=False, attach=attach)

    def mail_file_missing(self, ticket: Ticket, kind: MediaKind) -> list[OutboundCall]:
        """The file of an agent's reply could not go with the mail (Telegram did not give
        it: too large for a bot to download, or gone)."""
        with self._locale():
            note = _(
                "This customer writes by email: they got the text only, not the {kind}."
            ).format(kind=media_label(kind))
        return self.to_topic(ticket, "⚠️ " + note)
