"""Renderings for similar solved tickets: the list in a ticket's topic, a reply as a draft,
and that reply sent. Mixed into :class:`bot.adapters.presenter.Presenter`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.markup import markup
from bot.callbacks import SimilarAction, SimilarCb
from bot.texts import cut_utf16
from models import Agent, Customer, Ticket, TicketMessage
from models.delivery import OutboundCall
from models.solutions import SimilarSolved, Solution

#: How much of each reply the list shows.
PREVIEW_CHARS = 200
#: How much of a reply a draft shows (the whole message stays within Telegram's 4096).
DRAFT_CHARS = 3500


def ago(then: datetime, now: datetime) -> str:
    """ "5 min ago", "3 h ago", "2 days ago" in the current locale."""
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return _("{count} min ago").format(count=minutes)
    if minutes < 48 * 60:
        return _("{count} h ago").format(count=minutes // 60)
    days = minutes // (24 * 60)
    return ngettext("{count} day ago", "{count} days ago", days).format(count=days)


class SimilarPresenterMixin:
    """Needs the host's ``agent_chat_id``, ``_locale``, ``_send``, ``_agents_place`` and
    ``_record_in_topic`` / ``auto_answered`` (from the tools mixin)."""

    agent_chat_id: int
    group_of: Callable[[Ticket], int]
    _locale: Callable[..., AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    _agents_place: Callable[[Ticket], dict[str, Any]]
    _record_in_topic: Callable[[Ticket, TicketMessage, str], list[OutboundCall]]
    auto_answered: Callable[[Ticket, Customer, TicketMessage], list[OutboundCall]]

    def _topic_post(self, ticket: Ticket, text: str, **params: Any) -> list[OutboundCall]:
        return self._send(
            self.group_of(ticket), text, ticket=ticket, **self._agents_place(ticket), **params
        )

    def similar_solved(
        self, ticket: Ticket, found: list[SimilarSolved], now: datetime, *, asked: bool
    ) -> list[OutboundCall]:
        """One message in the topic: each solved ticket's number, subject, age and reply, with
        a button per ticket that posts its reply as a draft. Nothing found: a line saying so
        when an agent asked, nothing at all when the ticket just opened."""
        if not found:
            if not asked:
                return []
            with self._locale():
                return self._topic_post(ticket, "🔎 " + _("No similar solved tickets yet."))
        keyboard = InlineKeyboardBuilder()
        with self._locale():
            lines = ["🔎 <b>" + _("Similar solved tickets") + "</b>"]
            for item in found:
                solved, solution = item.ticket, item.solution
                lines += [
                    "",
                    f"<b>#{solved.number}</b> · {escape(solved.subject)} · "
                    f"{ago(solution.resolved_at, now)} · {item.score:.0%}",
                    "↳ <i>" + escape(cut_utf16(solution.reply, PREVIEW_CHARS)) + "</i>",
                ]
                keyboard.button(
                    text=f"📝 #{solved.number}",
                    callback_data=SimilarCb(
                        a=SimilarAction.DRAFT, t=ticket.id or 0, s=solved.id or 0
                    ),
                )
            lines += ["", _("Tap a number to get that reply here as a draft.")]
        keyboard.adjust(len(found))
        return self._topic_post(ticket, "\n".join(lines), reply_markup=markup(keyboard))

    def solution_draft(
        self, ticket: Ticket, source: Ticket, solution: Solution, agent: Agent
    ) -> list[OutboundCall]:
        """The reply of ``source`` as a draft for this ticket: in a block Telegram copies with
        one tap (to edit and send), and a button that sends it as is."""
        keyboard = InlineKeyboardBuilder()
        with self._locale():
            head = "📝 " + _("{agent}, the reply that solved #{number}, as a draft:").format(
                agent=escape(agent.name), number=source.number
            )
            tail = _("Send it as is, or tap it to copy, edit it and send your own version.")
            keyboard.button(
                text="📨 " + _("Send as is"),
                callback_data=SimilarCb(a=SimilarAction.SEND, t=ticket.id or 0, s=source.id or 0),
            )
        body = escape(cut_utf16(solution.reply, DRAFT_CHARS))
        text = f"{head}\n<pre>{body}</pre>\n{tail}"
        return self._topic_post(ticket, text, reply_markup=markup(keyboard))

    def solution_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        source: Ticket,
    ) -> list[OutboundCall]:
        """The reply to the customer, and a record of it in the topic."""
        with self._locale():
            record = "📨 " + _("{agent} sent the reply that solved #{number}:").format(
                agent=escape(agent.name), number=source.number
            )
        return self.auto_answered(ticket, customer, message) + self._record_in_topic(
            ticket, message, record
        )
