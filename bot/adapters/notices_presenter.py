"""Notices to agents outside a ticket's own traffic: SLA warnings and breaches, failed
deliveries, the triage queue, the daily digest, the group's own state (behind, start-up check),
agent changes. Mixed into :class:`bot.adapters.presenter.Presenter`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.adapters.labels import (
    category_label,
    sla_label,
)
from bot.adapters.markup import mention
from bot.services.agent_chat import AgentChatCheck, Shortfall
from models import (
    Agent,
    Ticket,
)
from models.delivery import Lane, OnSent, OutboundCall, Ref, RefKind


def _remembered(
    method: str, params: dict[str, Any], ticket: Ticket, on_sent: OnSent, lane: Lane = Lane.REPLY
) -> OutboundCall:
    """A call in the agents' group whose result the ticket keeps (``on_sent`` names how)."""
    chat = int(params["chat_id"])
    return OutboundCall(chat, method, params, lane, ticket.id, on_sent=on_sent, ref_id=ticket.id)


class NoticesPresenterMixin:
    """Needs the host's ``agent_chat_id``, ``agent_chat_is_forum``, ``_locale``,
    ``_own_locale``, ``_send``, ``to_topic`` and ``local_time``."""

    agent_chat_id: int
    agent_chat_is_forum: bool
    _locale: Callable[..., AbstractContextManager[None]]
    _own_locale: Callable[[Agent], AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    to_topic: Callable[[Ticket, str], list[OutboundCall]]
    local_time: Callable[[datetime], str]

    def not_sure(self, ticket: Ticket) -> list[OutboundCall]:
        """A line in the triage queue topic for a ticket the classifier was unsure about."""
        chat = self.agent_chat_id
        params: dict[str, Any] = {"chat_id": chat, "text": Ref(RefKind.NOT_SURE_TEXT, ticket.id)}
        if self.agent_chat_is_forum:
            params["message_thread_id"] = Ref(RefKind.TRIAGE_THREAD)
        return [_remembered("sendMessage", params, ticket, OnSent.NOT_SURE)]

    def not_sure_settled(self, ticket: Ticket, agent: Agent) -> list[OutboundCall]:
        """The not-sure post says who chose the category, so the triage queue shows it done."""
        chat = self.agent_chat_id
        number = f"#{ticket.number}"
        with self._locale():
            text = "✅ " + _("{ticket}: {agent} set the category “{category}”.").format(
                ticket=number,
                agent=escape(agent.name),
                category=escape(category_label(ticket.category)),
            )
        params = {
            "chat_id": chat,
            "message_id": Ref(RefKind.NOT_SURE_POST, ticket.id),
            "text": text,
        }
        settled = OnSent.NOT_SURE_SETTLED
        return [_remembered("editMessageText", params, ticket, settled, Lane.UPDATE)]

    def triage_queue_topic(self) -> list[OutboundCall]:
        if not self.agent_chat_is_forum:
            return []
        with self._locale():
            name = "🧐 " + _("Triage queue: not sure")
        return [
            OutboundCall(
                chat_id=self.agent_chat_id,
                method="createForumTopic",
                params={"chat_id": self.agent_chat_id, "name": name, "icon_color": 16766590},
                on_sent=OnSent.TRIAGE_TOPIC,
                ref_id=0,
            )
        ]

    def group_behind(
        self, queued: int, behind: timedelta, chat_id: int | None = None
    ) -> list[OutboundCall]:
        """One line about a group's own queue (``chat_id``: a team's group; None: the main
        group), ahead of that queue (in its General topic)."""
        minutes = max(1, round(behind.total_seconds() / 60))
        with self._locale():
            text = "⏳ " + ngettext(
                "This group is about {minutes} minute behind: Telegram lets a bot post about "
                "20 messages a minute here and {queued} are waiting.",
                "This group is about {minutes} minutes behind: Telegram lets a bot post about "
                "20 messages a minute here and {queued} are waiting.",
                minutes,
            ).format(minutes=minutes, queued=queued)
            text += " " + _(
                "Customers have their acknowledgements; nothing is lost, and it arrives in order."
            )
        calls = self._send(chat_id or self.agent_chat_id, text)
        for call in calls:
            call.lane = Lane.NOTICE
        return calls

    def digest(self, by_team: dict[str, dict[str, int]], now: datetime) -> list[OutboundCall]:
        with self._locale():
            lines = [
                "📋 <b>" + _("Daily digest, {day}").format(day=self.local_time(now)[:9]) + "</b>"
            ]
            if not by_team:
                lines.append(_("No open tickets. 🎉"))
            for team, n in sorted(by_team.items()):
                lines.append(
                    _(
                        "{team}: {new} new, {open} open, {overdue} overdue, {not_sure} not sure"
                    ).format(team=escape(team), **n)
                )
        return self._send(self.agent_chat_id, "\n".join(lines))

    def sla_warning(
        self, ticket: Ticket, kind: str, due: datetime, assignee: Agent | None
    ) -> list[OutboundCall]:
        with self._locale():
            text = "⏰ " + _("{target} due {when} (80% of the time is used).").format(
                target=sla_label(kind), when=self.local_time(due)
            )
        if assignee is not None:
            text += " " + mention(assignee)
        return self.to_topic(ticket, text)

    def sla_breach(
        self,
        ticket: Ticket,
        kind: str,
        due: datetime,
        assignee: Agent | None,
        supervisors: list[Agent],
    ) -> list[OutboundCall]:
        with self._locale():
            text = "🔥 " + _("SLA breached: {target} was due {when}.").format(
                target=sla_label(kind), when=self.local_time(due)
            )
        people = [a for a in [assignee, *supervisors] if a is not None]
        unique = list({a.telegram_id: a for a in people}.values())
        text += " " + " ".join(mention(a) for a in unique)
        calls = self.to_topic(ticket, text.rstrip())
        for agent in unique:  # a direct message too; fails quietly if they never started the bot
            with self._own_locale(agent):
                dm = _("SLA breached on ticket #{number}: {target} was due {when}.").format(
                    number=ticket.number, target=sla_label(kind), when=self.local_time(due)
                )
            calls += self._send(agent.telegram_id, dm)
        return calls

    def delivery_failed(self, ticket: Ticket, error: str) -> list[OutboundCall]:
        with self._locale():
            text = "⚠️ " + _("Not delivered to the customer: {reason}").format(reason=escape(error))
        return self.to_topic(ticket, text)

    def agent_chat_shortfalls(self, check: AgentChatCheck) -> list[OutboundCall]:
        """The start-up check's warning, in the group's language: what is missing, and the
        mode the desk runs in because of it."""
        with self._locale():
            reasons = {
                Shortfall.NOT_ADMIN: _("the bot is not an administrator of this group"),
                Shortfall.NO_TOPICS: _("topics are switched off in this group"),
                Shortfall.CANNOT_MANAGE_TOPICS: _("the bot lacks the right “Manage topics”"),
                Shortfall.CANNOT_PIN: _("the bot lacks the right “Pin messages”"),
            }
            if check.forum:
                mode = _("Tickets get topics, but their cards are not pinned.")
            else:
                mode = _(
                    "The desk runs as a plain group: ticket cards and replies are posted in the "
                    "main chat, and agents answer by replying to a card."
                )
            problems = "; ".join(reasons[s] for s in check.shortfalls)
            text = "⚠️ " + _("Start-up check: {problems}.").format(problems=problems) + " " + mode
        return self._send(self.agent_chat_id, text)

    def agent_changed(
        self, chat_id: int, thread_id: int | None, agent: Agent
    ) -> list[OutboundCall]:
        with self._locale():
            if agent.active:
                text = _("{name} is registered as {role}.").format(
                    name=escape(agent.name), role=agent.role
                )
                if agent.capacity is not None:
                    text += " " + ngettext(
                        "At most {count} active ticket is assigned to them.",
                        "At most {count} active tickets are assigned to them.",
                        agent.capacity,
                    ).format(count=agent.capacity)
            else:
                text = _("{name} is no longer an agent.").format(name=escape(agent.name))
        params: dict[str, Any] = {"message_thread_id": thread_id} if thread_id else {}
        return self._send(chat_id, text, **params)
