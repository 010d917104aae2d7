"""Renderings for incidents: the incident's topic and live card, lines in linked tickets'
topics, a bulk reply's copies. Mixed into :class:`bot.adapters.presenter.Presenter`.

The card's text and buttons are rendered when the call is made (``incident_card_text``,
``incident_card_markup``), so edits queued while the group is busy coalesce into one that shows
the latest count (one ``dedupe_key`` per incident).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.adapters.labels import media_label
from bot.texts import cut_utf16
from models import Customer, MediaKind, Ticket, TicketMessage
from models.delivery import Channel, Lane, OnSent, OutboundCall, Ref, RefKind
from models.incidents import BulkReply, Incident

#: An incident's topic is red, whatever the priority of its tickets.
INCIDENT_COLOR = 16478047
#: How much of each unseen message a released ticket's summary shows.
UNSEEN_CHARS = 500
TOPIC_NAME_MAX = 128


class IncidentPresenterMixin:
    """Needs the host's ``agent_chat_id``, ``agent_chat_is_forum``, ``_locale``, ``_send``,
    ``_to_customer``, ``local_time`` and ``ticket_topic``."""

    agent_chat_id: int
    agent_chat_is_forum: bool
    _locale: Callable[..., AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    _to_customer: Callable[..., list[OutboundCall]]
    local_time: Callable[..., str]
    ticket_topic: Callable[[Ticket], list[OutboundCall]]

    def _incident_call(
        self, incident_id: int | None, method: str, on_sent: OnSent | None = None, **params: Any
    ) -> OutboundCall:
        chat = self.agent_chat_id
        return OutboundCall(
            chat_id=chat,
            method=method,
            params={"chat_id": chat, **params},
            on_sent=on_sent,
            ref_id=incident_id,
        )

    def _in_incident_topic(self, incident: Incident) -> dict[str, Any]:
        """Where a message about the incident goes: its topic (or the group without topics)."""
        if not self.agent_chat_is_forum:
            return {}
        return {"message_thread_id": Ref(RefKind.INCIDENT_THREAD, incident.id)}

    def incident_opened(self, incident: Incident) -> list[OutboundCall]:
        """The incident's topic, its card there (pinned): three calls for the whole surge."""
        calls: list[OutboundCall] = []
        if self.agent_chat_is_forum:
            with self._locale():
                name = "🚨 " + _("Incident {number}: {subject}").format(
                    number=incident.number, subject=incident.subject
                )
            calls.append(
                self._incident_call(
                    incident.id,
                    "createForumTopic",
                    OnSent.INCIDENT_TOPIC,
                    name=cut_utf16(name, TOPIC_NAME_MAX),
                    icon_color=INCIDENT_COLOR,
                )
            )
        place = self._in_incident_topic(incident)
        calls.append(
            self._incident_call(
                incident.id,
                "sendMessage",
                OnSent.INCIDENT_CARD,
                text=Ref(RefKind.INCIDENT_CARD_TEXT, incident.id),
                reply_markup=Ref(RefKind.INCIDENT_CARD_MARKUP, incident.id),
                **place,
            )
        )
        if self.agent_chat_is_forum:
            pin = self._incident_call(
                incident.id,
                "pinChatMessage",
                message_id=Ref(RefKind.INCIDENT_CARD, incident.id),
                disable_notification=True,
            )
            pin.lane = Lane.UPDATE
            calls.append(pin)
        return calls

    def incident_changed(self, incident: Incident) -> list[OutboundCall]:
        return self.incident_card_changed(incident.id)

    def incident_card_changed(self, incident_id: int | None) -> list[OutboundCall]:
        """The card shows the latest state (queued edits of one card coalesce)."""
        call = self._incident_call(
            incident_id,
            "editMessageText",
            message_id=Ref(RefKind.INCIDENT_CARD, incident_id),
            text=Ref(RefKind.INCIDENT_CARD_TEXT, incident_id),
            reply_markup=Ref(RefKind.INCIDENT_CARD_MARKUP, incident_id),
        )
        call.lane = Lane.UPDATE
        call.dedupe_key = f"incident:{incident_id}"
        return [call]

    def cluster_joined(self, incident: Incident, subject: str, count: int) -> list[OutboundCall]:
        """A line in the incident's topic: a second group of similar messages, in other words
        but of the same category, joined it."""
        with self._locale():
            text = "🔗 " + ngettext(
                "{count} more ticket of the same category joined this incident, written in "
                "other words: «{subject}». Detach it if it is about something else.",
                "{count} more tickets of the same category joined this incident, written in "
                "other words, for example: «{subject}». Detach those about something else.",
                count,
            ).format(count=count, subject=escape(cut_utf16(subject, UNSEEN_CHARS)))
        place = self._in_incident_topic(incident)
        return [self._incident_call(incident.id, "sendMessage", text=text, **place)]

    def incident_closed(self, incident: Incident) -> list[OutboundCall]:
        """Resolved or split: its topic is closed (the card says why)."""
        if not self.agent_chat_is_forum:
            return []
        return [
            self._incident_call(
                incident.id,
                "closeForumTopic",
                message_thread_id=Ref(RefKind.INCIDENT_THREAD, incident.id, required=True),
            )
        ]

    def _own_topic_line(self, ticket: Ticket, text: str) -> list[OutboundCall]:
        """A line in the ticket's own topic; skipped when it has none (its topic was never
        created because the incident came first)."""
        if not self.agent_chat_is_forum:
            return []
        return self._send(
            self.agent_chat_id,
            text,
            ticket=ticket,
            message_thread_id=Ref(RefKind.THREAD, ticket.id, own=True),
        )

    def linked_to_incident(self, ticket: Ticket, incident: Incident) -> list[OutboundCall]:
        with self._locale():
            text = "🚨 " + _(
                "This ticket is part of incident {number} now: replies and resolution come from "
                "the incident's topic."
            ).format(number=incident.number)
        return self._own_topic_line(ticket, text)

    def left_incident(self, ticket: Ticket, incident: Incident | None) -> list[OutboundCall]:
        with self._locale():
            text = "✂️ " + _("This ticket is no longer part of incident {number}.").format(
                number=incident.number if incident is not None else "?"
            )
        return self._own_topic_line(ticket, text)

    def unseen_messages(self, ticket: Ticket, messages: list[TicketMessage]) -> list[OutboundCall]:
        """What the customer wrote while the ticket was worked in its incident, as one message
        in its new topic (not one copy each: the group's budget is shared)."""
        if not messages:
            return []
        with self._locale():
            lines = ["🗂 " + _("Written while the ticket was part of an incident:")]
            for m in messages:
                body = (
                    escape(cut_utf16(m.text, UNSEEN_CHARS))
                    if m.text
                    else f"[{media_label(m.media_kind)}]"
                )
                if m.text and m.media_kind is not MediaKind.TEXT:
                    body = f"[{media_label(m.media_kind)}] {body}"
                lines.append(f"{self.local_time(m.sent_at)}: {body}")
        return self._send(
            self.agent_chat_id,
            "\n".join(lines),
            ticket=ticket,
            **(
                {"message_thread_id": Ref(RefKind.THREAD, ticket.id)}
                if self.agent_chat_is_forum
                else {"reply_parameters": Ref(RefKind.REPLY_CARD, ticket.id)}
            ),
        )

    def bulk_reply(
        self, ticket: Ticket, customer: Customer, message: TicketMessage, reply: BulkReply
    ) -> list[OutboundCall]:
        """The agent's message in the incident's topic, copied to one linked customer (an
        email customer gets its text by mail)."""
        if customer.channel is not Channel.TELEGRAM:
            text = escape(reply.text or "")
            calls = self._to_customer(customer, text, ticket=ticket, auto=False)
            calls[0].on_sent, calls[0].ref_id = OnSent.BULK_REPLY, reply.id
            return calls
        chat = customer.telegram_id
        return [
            OutboundCall(
                chat_id=chat,
                method="copyMessage",
                params={
                    "chat_id": chat,
                    "from_chat_id": reply.agent_chat_id,
                    "message_id": reply.agent_message_id,
                },
                ticket_id=ticket.id,
                on_sent=OnSent.BULK_REPLY,
                ref_id=reply.id,
            )
        ]
