"""Renders texts and keyboards into outbound Telegram calls (implements the Presenter port).

This module holds what a ticket's life sends to both sides (opened, status changes, copies
between the customer and the ticket's topic, the card); the customer's own menus and views are
in :mod:`bot.adapters.customer_presenter`, notices outside a ticket's topic (SLA, the triage
queue, the group's own state) in :mod:`bot.adapters.notices_presenter`.

Calls refer to things that exist only once earlier calls went through (a ticket's topic, its
card, the copy of a message) with typed :class:`~models.delivery.Ref` values;
:mod:`bot.adapters.delivery` looks them up when the call is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.cards import card_keyboard, menu_keyboard
from bot.adapters.customer_presenter import CustomerPresenterMixin
from bot.adapters.incident_presenter import IncidentPresenterMixin
from bot.adapters.labels import (
    priority_label,
)
from bot.adapters.mail_presenter import MailPresenterMixin
from bot.adapters.markup import markup
from bot.adapters.moves_presenter import MovesPresenterMixin
from bot.adapters.notices_presenter import NoticesPresenterMixin
from bot.adapters.similar_presenter import SimilarPresenterMixin
from bot.adapters.tools_presenter import ToolsPresenterMixin
from bot.callbacks import CustomerAction, CustomerCb, Menu, RatingCb
from bot.services.ports import Retyped
from bot.texts import CAPTION_LIMIT, cut_utf16, pick_language, split_text
from models import (
    Agent,
    Category,
    Customer,
    EventKind,
    MediaKind,
    Priority,
    Team,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from models.csat import RatingLinks
from models.delivery import Channel, Lane, OnSent, OutboundCall, Ref, RefKind

TOPIC_NAME_MAX = 128
#: Reactions that acknowledge an agent's command and note (from Telegram's allowed emoji).
ACK_CHANGE = "👌"
ACK_NOTE = "✍"
ALBUM_WAIT = timedelta(seconds=2)
TOPIC_COLORS = {
    Priority.LOW: 7322096,
    Priority.NORMAL: 9367192,
    Priority.HIGH: 16766590,
    Priority.URGENT: 16478047,
}


def topic_name(ticket: Ticket) -> str:
    head = f"#{ticket.number}"
    if ticket.category:
        head += f" · {ticket.category}"
    name = f"{head} · {ticket.subject}" if ticket.subject else head
    return cut_utf16(name, TOPIC_NAME_MAX)  # Telegram counts UTF-16 units, not characters


def _written(retyped: Retyped, text_key: str, entities_key: str) -> dict[str, Any]:
    """``retyped`` as a text or caption with its own entities, and no parse mode: the bot's
    default (HTML) would take a customer's ``<`` for markup."""
    params: dict[str, Any] = {text_key: retyped.text, "parse_mode": None}
    if retyped.entities:
        params[entities_key] = list(retyped.entities)
    return params


@dataclass
class Presenter(
    MailPresenterMixin,
    CustomerPresenterMixin,
    NoticesPresenterMixin,
    IncidentPresenterMixin,
    SimilarPresenterMixin,
    ToolsPresenterMixin,
    MovesPresenterMixin,
):
    i18n: I18n
    agent_chat_id: int
    default_language: str = "en"
    agent_chat_is_forum: bool = True
    sign_replies: bool = False
    zone: str = "UTC"
    #: How long a customer's message reopens a resolved ticket (HELPDESK_REOPEN_WINDOW_HOURS).
    reopen_window: timedelta = timedelta(hours=72)
    rating_links: RatingLinks | None = None  # in "resolved" mails (see models.csat)

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _locale(self, customer: Customer | None = None) -> Iterator[None]:
        """Customers read their own language; the agents' group reads the desk's language."""
        lang = (customer.language if customer else None) or self.default_language
        with self.i18n.use_locale(lang):
            yield

    def _own_locale(self, agent: Agent) -> AbstractContextManager[None]:
        """A text addressed to one agent alone (a direct message) is in that agent's language."""
        return self.i18n.use_locale(pick_language(agent.language, self.default_language))

    def _send(
        self, chat_id: int, text: str, *, ticket: Ticket | None = None, **params: Any
    ) -> list[OutboundCall]:
        """``sendMessage`` calls for ``text``, split at Telegram's 4096-character limit."""
        ticket_id = ticket.id if ticket else None
        parts = split_text(text)
        calls = []
        for i, part in enumerate(parts):
            extra = (
                params
                if i == len(parts) - 1
                else {k: v for k, v in params.items() if k != "reply_markup"}
            )
            calls.append(
                OutboundCall(
                    chat_id=chat_id,
                    method="sendMessage",
                    params={"chat_id": chat_id, "text": part, **extra},
                    ticket_id=ticket_id,
                )
            )
        return calls

    def group_of(self, ticket: Ticket) -> int:
        """The agents' group a ticket's traffic goes to: the one it was placed in (its team's
        own group, or the main group). A ticket worked in its incident (no topic of its own) is
        with the incident, in the main group."""
        if ticket.incident_id is not None and ticket.agent_thread_id is None:
            return self.agent_chat_id
        return ticket.agent_chat_id or self.agent_chat_id

    def _forum(self, chat_id: int) -> bool:
        """Whether an agents' group has topics: a team's own group always does (it is
        verified when it is set), the main group when the start-up check found so."""
        return chat_id != self.agent_chat_id or self.agent_chat_is_forum

    def _agents_place(self, ticket: Ticket) -> dict[str, Any]:
        """Where a ticket's traffic goes in its agents' group: its topic, or under its card."""
        if self._forum(self.group_of(ticket)):
            return {"message_thread_id": Ref(RefKind.THREAD, ticket.id)}
        return {"reply_parameters": Ref(RefKind.REPLY_CARD, ticket.id)}

    def _album(
        self,
        chat: int,
        from_chat: int | None,
        ticket: Ticket,
        message: TicketMessage,
        to: str,
        place: dict[str, Any],
    ) -> OutboundCall:
        """Album parts arrive one update each: wait a moment, then copy them as one album.

        Every part queues this call; only the newest one is sent (same ``dedupe_key``), and it
        copies the parts not copied yet.
        """
        return OutboundCall(
            chat_id=chat,
            method="copyMessages",
            params={
                "chat_id": chat,
                "from_chat_id": from_chat,
                "message_ids": Ref(
                    RefKind.ALBUM_FOR_AGENTS if to == "agents" else RefKind.ALBUM_FOR_CUSTOMER,
                    ticket.id,
                    group=message.media_group_id,
                ),
                **place,
            },
            ticket_id=ticket.id,
            on_sent=OnSent.ALBUM_TO_AGENTS if to == "agents" else OnSent.ALBUM_TO_CUSTOMER,
            ref_id=ticket.id,
            dedupe_key=f"album:{to}:{ticket.id}:{message.media_group_id}",
            not_before=message.sent_at + ALBUM_WAIT,
        )

    def acknowledged(self, chat_id: int, message_id: int, *, note: bool) -> list[OutboundCall]:
        """One reaction on an agent's command (👌) or internal note (✍): seen where they typed
        it, with no message added to the topic."""
        emoji = ACK_NOTE if note else ACK_CHANGE
        params = {
            "chat_id": chat_id,
            "message_id": message_id,
            "reaction": [{"type": "emoji", "emoji": emoji}],
        }
        return [OutboundCall(chat_id=chat_id, method="setMessageReaction", params=params)]

    def to_topic(self, ticket: Ticket, text: str) -> list[OutboundCall]:
        return self._send(self.group_of(ticket), text, ticket=ticket, **self._agents_place(ticket))

    # -- a ticket's life, both sides -------------------------------------------------------------

    def ticket_opened(
        self, ticket: Ticket, customer: Customer, registered: str | None = None
    ) -> list[OutboundCall]:
        return self.ticket_topic(ticket) + self.ticket_registered(ticket, customer, registered)

    def ticket_topic(self, ticket: Ticket) -> list[OutboundCall]:
        """The ticket's topic in its agents' group, its card there, pinned."""
        chat = self.group_of(ticket)
        forum = self._forum(chat)
        calls: list[OutboundCall] = []
        if forum:
            calls.append(
                OutboundCall(
                    chat_id=chat,
                    method="createForumTopic",
                    params={
                        "chat_id": chat,
                        "name": topic_name(ticket),
                        "icon_color": TOPIC_COLORS[ticket.priority],
                    },
                    ticket_id=ticket.id,
                    on_sent=OnSent.TOPIC,
                    ref_id=ticket.id,
                )
            )
        place = {"message_thread_id": Ref(RefKind.THREAD, ticket.id)} if forum else {}
        calls.append(
            OutboundCall(
                chat_id=chat,
                method="sendMessage",
                params={
                    "chat_id": chat,
                    "text": Ref(RefKind.CARD_TEXT, ticket.id),
                    "reply_markup": Ref(RefKind.CARD_MARKUP, ticket.id),
                    **place,
                },
                ticket_id=ticket.id,
                on_sent=OnSent.CARD,
                ref_id=ticket.id,
            )
        )
        if forum:
            calls.append(
                OutboundCall(
                    chat_id=chat,
                    method="pinChatMessage",
                    params={
                        "chat_id": chat,
                        "message_id": Ref(RefKind.CARD, ticket.id),
                        "disable_notification": True,
                    },
                    ticket_id=ticket.id,
                    lane=Lane.UPDATE,
                )
            )
        return calls

    def ticket_registered(
        self, ticket: Ticket, customer: Customer, registered: str | None = None
    ) -> list[OutboundCall]:
        """The customer's acknowledgement: their ticket number (``registered``: the admins'
        own text, if they set one)."""
        if registered is not None:
            text = escape(registered).format(
                name=escape(customer.first_name), ticket=f"#{ticket.number}"
            )
            return self._to_customer(customer, text, ticket=ticket)
        with self._locale(customer):
            text = self._registered_text(customer)
        return self._to_customer(customer, text.format(number=ticket.number), ticket=ticket)

    def ticket_reopened(
        self, ticket: Ticket, customer: Customer, *, by_customer: bool
    ) -> list[OutboundCall]:
        calls = self._topic_state(ticket, reopen=True)
        with self._locale(customer):
            text = _("Ticket #{number} is open again. An agent will get back to you here.").format(
                number=ticket.number
            )
        calls += self._to_customer(customer, text, ticket=ticket)
        with self._locale():
            note = (
                _("The customer reopened the ticket.")
                if by_customer
                else _("The ticket was reopened.")
            )
        return calls + self.to_topic(ticket, "↩️ " + note)

    def customer_acknowledged(self, ticket: Ticket) -> list[OutboundCall]:
        with self._locale():
            note = _("A thank-you from the customer: the ticket keeps its status.")
        return self.to_topic(ticket, "👍 " + note)

    def _topic_state(self, ticket: Ticket, *, reopen: bool) -> list[OutboundCall]:
        chat = self.group_of(ticket)
        if not self._forum(chat):
            return []
        return [
            OutboundCall(
                chat_id=chat,
                method="reopenForumTopic" if reopen else "closeForumTopic",
                params={
                    "chat_id": chat,
                    "message_thread_id": Ref(RefKind.THREAD, ticket.id, required=True),
                },
                ticket_id=ticket.id,
            )
        ]

    def copy_to_agents(
        self, ticket: Ticket, message: TicketMessage, retyped: Retyped | None = None
    ) -> list[OutboundCall]:
        """The customer's message in the ticket's topic: a copy, or the ``retyped`` text (a
        text message is sent anew; media are copied with the retyped caption)."""
        chat = self.group_of(ticket)
        if message.channel is not Channel.TELEGRAM:  # nothing in Telegram to copy: its text
            calls = self.to_topic(ticket, escape(message.text or ""))
            calls[0].on_sent, calls[0].ref_id = OnSent.COPIED_TO_AGENTS, message.id
            return calls
        if message.media_group_id:
            # copyMessages cannot reply, so in a plain group the album stands on its own;
            # replies to its parts still route by their stored ids. (Nor can it change
            # captions: a retyped one is not applied to an album.)
            place = self._agents_place(ticket) if self._forum(chat) else {}
            return [self._album(chat, message.customer_chat_id, ticket, message, "agents", place)]
        method = "copyMessage"
        content: dict[str, Any] = {
            "from_chat_id": message.customer_chat_id,
            "message_id": message.customer_message_id,
        }
        if retyped is not None and message.media_kind is MediaKind.TEXT:
            method, content = "sendMessage", _written(retyped, "text", "entities")
        elif retyped is not None:
            content |= _written(retyped, "caption", "caption_entities")
        return [
            OutboundCall(
                chat_id=chat,
                method=method,
                params={"chat_id": chat, **content, **self._agents_place(ticket)},
                ticket_id=ticket.id,
                on_sent=OnSent.COPIED_TO_AGENTS,
                ref_id=message.id,
            )
        ]

    def topic_renamed(self, ticket: Ticket) -> list[OutboundCall]:
        """The topic's name follows the ticket (its category, after a correction)."""
        chat = self.group_of(ticket)
        if not self._forum(chat):
            return []
        params = {
            "chat_id": chat,
            "message_thread_id": Ref(RefKind.THREAD, ticket.id),
            "name": topic_name(ticket),
        }
        return [
            OutboundCall(
                chat_id=chat,
                method="editForumTopic",
                params=params,
                ticket_id=ticket.id,
                lane=Lane.UPDATE,
            )
        ]

    def card_changed(self, ticket: Ticket) -> list[OutboundCall]:
        if ticket.incident_id is not None and ticket.card_message_id is None:
            # Worked in its incident (no card of its own): the incident's card counts it.
            return self.incident_card_changed(ticket.incident_id)
        chat = self.group_of(ticket)
        return [
            OutboundCall(
                chat_id=chat,
                method="editMessageText",
                params={
                    "chat_id": chat,
                    "message_id": Ref(RefKind.CARD, ticket.id),
                    "text": Ref(RefKind.CARD_TEXT, ticket.id),
                    "reply_markup": Ref(RefKind.CARD_MARKUP, ticket.id),
                },
                lane=Lane.UPDATE,
                ticket_id=ticket.id,
                dedupe_key=f"card:{ticket.id}",
            )
        ]

    def card_menu(
        self, ticket: Ticket, menu: str, teams: list[Team], categories: list[Category]
    ) -> list[OutboundCall]:
        with self._locale():
            keyboard = menu_keyboard(ticket, Menu(menu), teams, categories)
        chat = self.group_of(ticket)
        return [
            OutboundCall(
                chat_id=chat,
                method="editMessageReplyMarkup",
                params={
                    "chat_id": chat,
                    "message_id": Ref(RefKind.CARD, ticket.id),
                    "reply_markup": markup(keyboard),
                },
                ticket_id=ticket.id,
            )
        ]

    def customer_edit_to_agents(
        self, ticket: Ticket, message: TicketMessage
    ) -> list[OutboundCall]:
        with self._locale():
            text = (
                "✏️ " + _("The customer edited this message:") + "\n\n" + escape(message.text or "")
            )
        params: dict[str, Any] = {"reply_parameters": Ref(RefKind.REPLY_AGENTS_COPY, message.id)}
        chat = self.group_of(ticket)
        if self._forum(chat):
            params["message_thread_id"] = Ref(RefKind.THREAD, ticket.id)
        return self._send(chat, text, ticket=ticket, **params)

    def status_changed(
        self,
        ticket: Ticket,
        customer: Customer,
        *,
        by_customer: bool,
        reopen_window: timedelta | None = None,
    ) -> list[OutboundCall]:
        """``reopen_window``: the admins' current setting (None: the environment's)."""
        calls: list[OutboundCall] = []
        number = ticket.number
        window = self.reopen_window if reopen_window is None else reopen_window
        if ticket.status is TicketStatus.RESOLVED:
            with self._locale(customer):
                if window > timedelta(0):
                    text = _(
                        "Ticket #{number} is resolved. If something is still wrong, just write "
                        "here or press the button to reopen it."
                    )
                else:  # a message would open a new ticket: promise only the button
                    text = _(
                        "Ticket #{number} is resolved. If something is still wrong, press the "
                        "button to reopen it."
                    )
                text = text.format(number=number)
                text += "\n\n" + _("How did we do? Rate the help you got:")
                keyboard = InlineKeyboardBuilder()
                for score in range(1, 6):
                    keyboard.button(
                        text=f"{score} ⭐", callback_data=RatingCb(t=ticket.id or 0, s=score)
                    )
                keyboard.button(
                    text=_("Reopen"),
                    callback_data=CustomerCb(a=CustomerAction.REOPEN, t=ticket.id or 0),
                )
                keyboard.adjust(5, 1)
            if customer.channel is not Channel.TELEGRAM:  # no buttons: writing reopens it
                with self._locale(customer):
                    text = self._resolved_text(customer).format(number=number)
                    text += self._rating_invitation(customer, ticket)
            calls += self._to_customer(
                customer, text, ticket=ticket, reply_markup=markup(keyboard)
            )
        elif ticket.status is TicketStatus.CLOSED:
            with self._locale(customer):
                text = _("Ticket #{number} is closed. Thank you for contacting us!").format(
                    number=number
                )
            calls += self._to_customer(customer, text, ticket=ticket)
            calls += self._topic_state(ticket, reopen=False)
            if by_customer:
                with self._locale():
                    calls += self.to_topic(ticket, "🔒 " + _("The customer closed the ticket."))
        elif ticket.status is TicketStatus.OPEN and self._was_reopened(ticket):
            return self.ticket_reopened(ticket, customer, by_customer=by_customer)
        return calls

    @staticmethod
    def _was_reopened(ticket: Ticket) -> bool:
        return any(
            e.kind is EventKind.STATUS_CHANGED
            and e.old in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
            for e in ticket.pending_events
        )

    def deliver_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        reply_to: TicketMessage | None,
        *,
        sign: bool | None = None,
    ) -> list[OutboundCall]:
        chat = customer.telegram_id
        signed = self.sign_replies if sign is None else sign
        if customer.channel is not Channel.TELEGRAM:
            return self._mail_reply(ticket, customer, message, agent, signed=signed)
        base: dict[str, Any] = {"chat_id": chat}
        if reply_to is not None:
            base["reply_parameters"] = Ref(RefKind.REPLY_CUSTOMER_COPY, reply_to.id)
        signature = f"\n\n— {escape(agent.name.split()[0])}" if signed else ""
        if message.media_group_id:
            return [self._album(chat, message.agent_chat_id, ticket, message, "customer", {})]
        if signature and message.media_kind is MediaKind.TEXT:
            # The agent's text may fill a message already: the signature must not make it
            # too long, so the signed text is split like any other.
            text = escape(message.text or "") + signature
            extra = {k: v for k, v in base.items() if k != "chat_id"}
            return self._send_recorded(customer, text, ticket, message, **extra)
        method = "copyMessage"
        params = {
            **base,
            "from_chat_id": message.agent_chat_id,
            "message_id": message.agent_message_id,
        }
        caption = escape(message.text or "") + signature
        if signature and message.text is not None and len(caption) <= CAPTION_LIMIT:
            # A caption that would not fit with the signature goes out unsigned, unchanged.
            params["caption"] = caption
        return [
            OutboundCall(
                chat_id=chat,
                method=method,
                params=params,
                ticket_id=ticket.id,
                on_sent=OnSent.COPIED_TO_CUSTOMER,
                ref_id=message.id,
            )
        ]

    def agent_edit_to_customer(self, ticket: Ticket, message: TicketMessage) -> list[OutboundCall]:
        if message.channel is not Channel.TELEGRAM:
            return []  # a mail (or a widget's text), once sent, stays as it was
        chat = message.customer_chat_id
        assert chat is not None
        params: dict[str, Any] = {
            "chat_id": chat,
            "message_id": Ref(RefKind.CUSTOMER_COPY, message.id),
        }
        if message.media_kind is MediaKind.TEXT:
            method, params["text"] = "editMessageText", escape(message.text or "")
        else:
            method, params["caption"] = "editMessageCaption", escape(message.text or "")
        return [
            OutboundCall(
                chat_id=chat,
                method=method,
                params=params,
                ticket_id=ticket.id,
                lane=Lane.REPLY,
            )
        ]

    def joined_texts(self, messages: list[TicketMessage]) -> str:
        """A customer's texts shown as one message in a topic that was behind, each with its
        time (HTML; the texts escaped)."""
        zone = ZoneInfo(self.zone)
        with self._locale():
            lines = [
                "💬 "
                + ngettext(
                    "{count} message, joined while this group was behind:",
                    "{count} messages, joined while this group was behind:",
                    len(messages),
                ).format(count=len(messages))
            ]
        for message in messages:
            when = message.sent_at.astimezone(zone).strftime("%H:%M:%S")
            lines.append(f"<i>{when}</i> {escape(message.text or '')}")
        return "\n".join(lines)

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.zone)).strftime("%a %d.%m %H:%M")


__all__ = ["Presenter", "card_keyboard", "priority_label", "topic_name"]
