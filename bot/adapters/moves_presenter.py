"""Renderings for a ticket that moves to another agents' group (its new team has a group of
its own, or none): the new topic with its card and a summary, the old topic's last line. Mixed
into :class:`bot.adapters.presenter.Presenter`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.adapters.tools_presenter import ticket_url
from bot.services.finality import topic_link
from bot.texts import cut_utf16
from models import MessageDirection, Team, Ticket, TicketMessage
from models.delivery import OnSent, OutboundCall, placed_refs

#: Methods that post a message (not an edit, a pin or a topic's state).
_POSTS = frozenset({"sendMessage", "copyMessage", "copyMessages"})
#: How much of each message the summary in the new topic shows.
SUMMARY_CHARS = 300
_MARKS = {
    MessageDirection.CUSTOMER: "👤",
    MessageDirection.AGENT: "🎧",
    MessageDirection.NOTE: "📝",
}


def _carries_a_message(call: OutboundCall) -> bool:
    """Whether a call still queued for a moving ticket's old group posts a message into the
    ticket's topic there (a copy, a notice; not its card): such calls are queued anew in the
    new group."""
    return (
        call.method in _POSTS
        and call.on_sent is not OnSent.CARD
        and bool(placed_refs(call.params))
    )


def _moved_away_line(team: Team | None) -> str:
    """What the ticket's old place says (in the current locale)."""
    name = escape(team.name) if team is not None else _("no team")
    return "➡️ " + _("Moved to another group (team: {team}).").format(team=name)


class MovesPresenterMixin:
    """Needs the host's ``zone``, ``_locale``, ``_send``, ``ticket_topic``, ``to_topic`` and
    ``group_of``."""

    zone: str
    _locale: Callable[..., AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    ticket_topic: Callable[[Ticket], list[OutboundCall]]
    to_topic: Callable[[Ticket, str], list[OutboundCall]]
    group_of: Callable[[Ticket], int]
    _agents_place: Callable[[Ticket], dict[str, Any]]

    def moved_here(
        self,
        ticket: Ticket,
        team: Team | None,
        recent: list[TicketMessage],
        waiting: list[OutboundCall],
    ) -> list[OutboundCall]:
        """The ticket in its new group: a topic, the card (pinned), what happened so far (the
        last few messages, a link to the old topic), then the ``waiting`` calls that had not
        reached the old group yet and carry a message (copies, notices): queued anew here."""
        old = topic_link(ticket.moved_from_chat_id, ticket.moved_from_thread_id)
        zone = ZoneInfo(self.zone)
        with self._locale():
            name = escape(team.name) if team is not None else _("no team")
            head = "↪️ " + _("Moved here (team: {team}).").format(team=name)
            if old is not None:
                head += " " + _('<a href="{url}">The earlier conversation</a>.').format(url=old)
            lines = [head]
            if recent:
                lines.append(_("The last messages:"))
        for message in recent:
            when = message.sent_at.astimezone(zone).strftime("%d.%m %H:%M")
            text = escape(cut_utf16(message.text or f"[{message.media_kind}]", SUMMARY_CHARS))
            lines.append(f"{_MARKS[message.direction]} <i>{when}</i> {text}")
        summary = self.to_topic(ticket, "\n".join(lines))
        for call in summary:
            call.params["link_preview_options"] = {"is_disabled": True}
        carried = [self._carried(ticket, c) for c in waiting if _carries_a_message(c)]
        return self.ticket_topic(ticket) + summary + carried

    def _carried(self, ticket: Ticket, call: OutboundCall) -> OutboundCall:
        """``call`` for the ticket's new group: the same message, placed in the new topic
        (a reply to a message of the old group cannot be kept)."""
        chat = self.group_of(ticket)
        params = {
            k: v
            for k, v in call.params.items()
            if k not in ("chat_id", "message_thread_id", "reply_parameters")
        }
        return OutboundCall(
            chat_id=chat,
            method=call.method,
            params={"chat_id": chat, **params, **self._agents_place(ticket)},
            lane=call.lane,
            ticket_id=call.ticket_id,
            on_sent=call.on_sent,
            ref_id=call.ref_id,
            dedupe_key=call.dedupe_key,
            not_before=call.not_before,
        )

    def moved_away(self, ticket: Ticket, team: Team | None) -> list[OutboundCall]:
        """The old topic's last line, linking to the new topic; then the old topic is closed.
        Made once the new topic exists (its link is known then)."""
        chat, thread = ticket.moved_from_chat_id, ticket.moved_from_thread_id
        if chat is None or thread is None:
            return []
        url = ticket_url(self.group_of(ticket), ticket)
        with self._locale():
            text = _moved_away_line(team)
            if url is not None:
                text += " " + _('<a href="{url}">It continues there</a>.').format(url=url)
        place: dict[str, Any] = {"message_thread_id": thread}
        calls = self._send(chat, text, ticket=ticket, **place)
        calls.append(
            OutboundCall(
                chat_id=chat,
                method="closeForumTopic",
                params={"chat_id": chat, "message_thread_id": thread},
                ticket_id=ticket.id,
            )
        )
        return calls

    def left_card(
        self, ticket: Ticket, team: Team | None, chat_id: int, card_id: int
    ) -> list[OutboundCall]:
        """A group without topics: the old card loses its buttons and gets a reply saying
        where the ticket went (made at once: the card is the ticket's only place there)."""
        with self._locale():
            text = _moved_away_line(team)
        calls = [
            OutboundCall(
                chat_id=chat_id,
                method="editMessageReplyMarkup",
                params={"chat_id": chat_id, "message_id": card_id},
                ticket_id=ticket.id,
            )
        ]
        reply: dict[str, Any] = {
            "reply_parameters": {"message_id": card_id, "allow_sending_without_reply": True}
        }
        return calls + self._send(chat_id, text, ticket=ticket, **reply)
