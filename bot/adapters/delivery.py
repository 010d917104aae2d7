"""What the help desk's outbox calls need at send time, and what their results change.

Calls are written before the things they refer to exist (the topic of a ticket opened in the
same transaction, the copy of a message not yet sent). Per-chat order guarantees the earlier
call has been made by then; these functions look the results up, and store new ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.adapters.cards import card_keyboard, render_card
from bot.adapters.incident_delivery import IncidentDelivery
from bot.adapters.mail import attachment
from bot.adapters.markup import markup
from bot.adapters.presenter import Presenter
from bot.adapters.tools_presenter import ticket_url
from bot.logs import get_logger
from bot.services import incidents, sla
from bot.services.training import TRIAGE_THREAD_KEY
from bot.texts import utf16_len
from models import (
    ActorKind,
    Agent,
    EventKind,
    MediaKind,
    MessageDirection,
    Ticket,
    TicketMessage,
    quotable,
)
from models.delivery import (
    Channel,
    Coalesced,
    NotReady,
    OnSent,
    OutboundCall,
    Ref,
    RefKind,
    Skip,
    Unsendable,
    Upload,
    placed_refs,
)
from storage import AbstractUnitOfWork

log = get_logger(__name__)

_DROP = object()


def not_sure_key(ticket_id: int) -> str:
    """Where the message id of a ticket's post in the triage queue topic is kept."""
    return f"not_sure:{ticket_id}"


#: A customer's text that waited this long for the agents' group joins the ones after it.
JOIN_AFTER = timedelta(seconds=15)
#: Queued calls of the group looked through for texts to join.
JOIN_SCAN = 200
#: At most this much customer text (UTF-16 units) in one joined message.
JOIN_LIMIT = 3000
#: How long a link to a new ticket may wait for its topic before going out without it.
TOPIC_GRACE = timedelta(minutes=5)
BLOCKED_HINTS = ("blocked", "deactivated", "chat not found", "user not found")


@dataclass
class DeliveryAdapter(IncidentDelivery):
    i18n: I18n
    presenter: Presenter

    # -- resolving ----------------------------------------------------------------------------

    async def resolve(
        self, uow: AbstractUnitOfWork, call: OutboundCall, now: datetime
    ) -> dict[str, Any]:
        """``call``'s parameters with each :class:`Ref` looked up and each :class:`Upload` made
        a multipart file, as of ``now``; a reference that comes out empty drops its parameter."""
        if call.on_sent in (OnSent.TOPIC, OnSent.CARD):
            await self._still_wanted(uow, call)
        await self._in_its_group(uow, call)
        params: dict[str, Any] = {}
        for key, value in call.params.items():
            if isinstance(value, Ref):
                value = await _REFS[value.kind](self, uow, value, now)
                if value is _DROP:
                    continue
            elif isinstance(value, Upload):
                value = BufferedInputFile(value.content, filename=value.name or "file")
            params[key] = value
        return params

    async def _ticket(self, uow: AbstractUnitOfWork, ticket_id: int | None) -> Ticket:
        ticket = await uow.tickets.get(ticket_id) if ticket_id is not None else None
        if ticket is None:
            raise Unsendable(f"ticket {ticket_id} is gone")
        return ticket

    async def _message(self, uow: AbstractUnitOfWork, message_id: int | None) -> TicketMessage:
        message = await uow.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise Unsendable(f"message {message_id} is gone")
        return message

    async def _still_wanted(self, uow: AbstractUnitOfWork, call: OutboundCall) -> None:
        """A ticket's topic or card is made once, and not at all once the ticket is worked in
        an incident (a surge detected while these calls waited for the group's budget)."""
        ticket = await self._ticket(uow, call.ref_id or 0)
        if self.presenter.group_of(ticket) != call.chat_id:
            raise Skip("the ticket moved to another group")
        if call.on_sent is OnSent.TOPIC and ticket.agent_thread_id is not None:
            raise Skip("the ticket has its topic already")
        if call.on_sent is OnSent.CARD and ticket.card_message_id is not None:
            raise Skip("the ticket has its card already")
        if ticket.incident_id is not None and ticket.agent_thread_id is None:
            raise Skip("the ticket is worked in its incident")

    async def _in_its_group(self, uow: AbstractUnitOfWork, call: OutboundCall) -> None:
        """A call that refers to a ticket's topic or card in one group is not made once the
        ticket moved to another group: those refer to its place there now. (Its calls still
        queued when it moved were queued anew in the new group.)"""
        if not _is_group(call.chat_id):
            return
        for ref in placed_refs(call.params):
            ticket = await self._ticket(uow, ref.id)
            if self.presenter.group_of(ticket) != call.chat_id:
                raise Skip("the ticket moved to another group")

    async def _thread(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        if ticket.agent_thread_id is None and ref.own:
            raise Skip("the ticket has no topic of its own")
        if ticket.agent_thread_id is None and ticket.incident_id is not None:
            # Worked in its incident: what concerns it goes to the incident's topic.
            incident = await uow.incidents.get(ticket.incident_id)
            if incident is not None and incident.thread_id is not None:
                return incident.thread_id
        if ticket.agent_thread_id is None:
            if ref.required:
                raise Unsendable("the ticket has no topic")
            return _DROP  # no topic (plain group, or topic creation failed): post in the chat
        return ticket.agent_thread_id

    async def _card(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        if ticket.card_message_id is None and ticket.incident_id is not None:
            raise Skip("the ticket is worked in its incident")
        if ticket.card_message_id is None:
            raise Unsendable("the ticket has no card")
        return ticket.card_message_id

    async def _reply_card(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        return _reply_to(ticket.card_message_id)

    async def _card_text(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        customer = await uow.customers.get(ticket.customer_id)
        assert customer is not None
        # With linked addresses (only a Telegram customer has them) the card says which
        # channel replies take now.
        linked = []
        if customer.channel is Channel.TELEGRAM:
            linked = await uow.customers.linked_to(customer.id or 0)
        via = None
        if linked:
            via = customer.replies_to(
                next((c for c in linked if c.id == customer.reply_via_id), None)
            )
        team = await uow.teams.get(ticket.team_id) if ticket.team_id else None
        assignee = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
        earlier = await uow.tickets.count_for_customer(customer.id or 0) - 1
        deadline = None
        if ticket.is_active:
            config = await sla.load_config(uow, self.presenter.zone)
            events = (await uow.events.status_changes([ticket.id or 0]))[ticket.id or 0]
            found = sla.deadline_of(
                ticket, events, config, now, team.name if team is not None else None
            )
            if found is not None:
                deadline = (found[0], self.presenter.local_time(found[1]))
        rating = await uow.ratings.for_ticket(ticket.id or 0)
        category_by = await self._category_setter(uow, ticket)
        first = await uow.messages.first_customer_message(ticket.id or 0)
        with self.i18n.use_locale(self.language):
            return render_card(
                ticket,
                customer,
                via=via,
                quote=first.text if first is not None and first.on_card else None,
                earlier_tickets=earlier,
                team=team,
                assignee=assignee,
                deadline=deadline,
                rating=rating,
                category_by=category_by,
            )

    async def _category_setter(self, uow: AbstractUnitOfWork, ticket: Ticket) -> Agent | None:
        """The agent who chose the ticket's current category (None: the classifier did)."""
        if ticket.category is None:
            return None
        event = await uow.events.latest(ticket.id or 0, EventKind.CATEGORY_CHANGED)
        if event is None or event.actor.kind is not ActorKind.AGENT or event.actor.id is None:
            return None
        return await uow.agents.get(event.actor.id)

    async def _card_markup(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        suggestions = [a for a in [await uow.canned.get(i) for i in ticket.suggestions] if a]
        with self.i18n.use_locale(self.language):
            return markup(card_keyboard(ticket, suggestions))

    async def _ticket_button(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        """A button linking to a ticket's topic (or card), once that exists."""
        ticket = await self._ticket(uow, ref.id)
        url = ticket_url(self.presenter.group_of(ticket), ticket)
        if url is None:
            young = ticket.created_at > now - TOPIC_GRACE
            if young and ticket.agent_thread_id is None and ticket.card_message_id is None:
                raise NotReady("the ticket's topic is still being created")
            return _DROP  # not a supergroup, or the topic never came: the text says enough
        return {"inline_keyboard": [[{"text": ref.label, "url": url}]]}

    async def _reply_agents_copy(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        return _reply_to((await self._message(uow, ref.id)).agent_message_id)

    async def _reply_customer_copy(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        return _reply_to((await self._message(uow, ref.id)).customer_message_id)

    async def _customer_copy(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        message = await self._message(uow, ref.id)
        if message.customer_message_id is None:
            raise Unsendable("the message never reached the customer")
        return message.customer_message_id

    async def _album(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        parts = await uow.messages.album(ref.id or 0, ref.group or "")
        if ref.kind is RefKind.ALBUM_FOR_AGENTS:
            ids = [
                m.customer_message_id
                for m in parts
                if m.direction is MessageDirection.CUSTOMER and m.agent_message_id is None
            ]
        else:
            ids = [
                m.agent_message_id
                for m in parts
                if m.direction is MessageDirection.AGENT and m.customer_message_id is None
            ]
        if not ids:
            raise Skip("every part of the album was copied already")
        return sorted(i for i in ids if i is not None)

    async def _triage_thread(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        value = await uow.desk_settings.get(TRIAGE_THREAD_KEY)
        return int(value) if value else _DROP

    async def _not_sure_text(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        ticket = await self._ticket(uow, ref.id)
        guess = escape(ticket.category or "?")
        confidence = f"{ticket.triage_confidence:.0%}" if ticket.triage_confidence else "?"
        link = ticket_url(self.presenter.group_of(ticket), ticket)
        number = f'<a href="{link}">#{ticket.number}</a>' if link else f"#{ticket.number}"
        with self.i18n.use_locale(self.language):
            return "🧐 " + _(
                "Not sure about {ticket}: best guess “{category}” ({confidence}). "
                "Please set the category on its card."
            ).format(ticket=number, category=guess, confidence=confidence)

    async def _not_sure_post(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        value = await uow.desk_settings.get(not_sure_key(ref.id or 0))
        if not value:
            raise Skip("the ticket has no not-sure post")
        return int(value)

    async def _mail_thread(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        return await uow.mail.thread(ref.id or 0)

    async def _mail_file(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        stored = await uow.mail.get(ref.id or 0)
        if stored is None or stored.raw is None:
            raise Unsendable(f"mail {ref.id} is gone")
        name, content = attachment(stored.raw, ref.part or 0)
        return BufferedInputFile(content, filename=name)

    async def _incident_thread(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        incident = await self._incident(uow, ref.id)
        if incident.thread_id is None:
            if ref.required:
                raise Unsendable("the incident has no topic")
            return _DROP
        return incident.thread_id

    # -- a backed-up topic: customer texts joined ----------------------------------------------

    async def coalesce(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: dict[str, Any], now: datetime
    ) -> Coalesced | None:
        """When the agents' group is behind, a customer's text that has waited there for
        :data:`JOIN_AFTER` goes out joined with the texts of the same ticket queued after it
        (one group message instead of one each), in their order, each with its time.

        Only plain texts join (media and formatted texts are copied as they are), only up to
        the first call of that ticket that is not such a copy (nothing is reordered within a
        ticket), and only within one message's length.
        """
        if call.on_sent is not OnSent.COPIED_TO_AGENTS:
            return None
        if not _is_group(call.chat_id):
            return None
        if call.created_at is None or now - call.created_at < JOIN_AFTER:
            return None
        first = await uow.messages.get(call.ref_id or 0)
        if first is None or not quotable(first):
            return None
        messages, absorbed = [first], []
        for queued in await uow.outbox.queued_in(call.queue, JOIN_SCAN):
            if queued.id == call.id or queued.ticket_id != call.ticket_id:
                continue
            message = (
                await uow.messages.get(queued.ref_id or 0)
                if queued.on_sent is OnSent.COPIED_TO_AGENTS
                else None
            )
            if message is None or not quotable(message) or "reply_parameters" in queued.params:
                break  # another kind of call of this ticket (or a reply): it keeps its place
            if sum(utf16_len(m.text or "") for m in [*messages, message]) > JOIN_LIMIT:
                break
            messages.append(message)
            absorbed.append(queued)
        if not absorbed:
            return None
        joined = {"chat_id": params["chat_id"], "text": self.presenter.joined_texts(messages)}
        for kept in ("message_thread_id", "reply_parameters"):
            if kept in params:
                joined[kept] = params[kept]
        return Coalesced("sendMessage", joined, absorbed)

    async def absorbed(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        """A customer text shown in a joined message: it is in the topic (replies to the joined
        message reach the first text of it)."""
        message = await self._message(uow, call.ref_id or 0)
        message.agent_chat_id = call.chat_id
        message.agent_thread_id = params.get("message_thread_id")

    # -- results ------------------------------------------------------------------------------

    async def on_sent(
        self,
        uow: AbstractUnitOfWork,
        call: OutboundCall,
        params: dict[str, Any],
        result: Any,
        now: datetime,
    ) -> None:
        if call.on_sent is not None:
            await _HOOKS[call.on_sent](self, uow, call, params, result, now)

    async def _topic_created(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        ticket = await self._ticket(uow, call.ref_id or 0)
        ticket.agent_chat_id = call.chat_id
        ticket.agent_thread_id = result["message_thread_id"]

    async def _triage_topic(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        await uow.desk_settings.set(TRIAGE_THREAD_KEY, str(result["message_thread_id"]))

    async def _not_sure_posted(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        await uow.desk_settings.set(not_sure_key(call.ref_id or 0), str(result["message_id"]))

    async def _not_sure_settled(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        await uow.desk_settings.delete(not_sure_key(call.ref_id or 0))

    async def _mailed(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        """One of the desk's mails: its id threads the customer's answer into the ticket. The
        agents hear of a file of theirs that could not go with it."""
        await uow.mail.record_sent(str(result["message_id"]), call.ref_id, now)
        missing = result.get("missing_file")
        if missing and call.ticket_id is not None:
            ticket = await self._ticket(uow, call.ticket_id)
            for notice in self.presenter.mail_file_missing(ticket, MediaKind(missing)):
                await uow.outbox.add(notice, now)

    async def _rating_prompt(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        rating = await uow.ratings.get(call.ref_id or 0)
        if rating is not None:
            rating.prompt_message_id = result["message_id"]

    async def _card_sent(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        ticket = await self._ticket(uow, call.ref_id or 0)
        ticket.agent_chat_id = call.chat_id
        ticket.card_message_id = result["message_id"]
        first = await uow.messages.first_customer_message(ticket.id or 0)
        if first is not None and first.on_card:  # the card is that message's agents' side
            _record_copy(first, call, params, result["message_id"], to_agents=True)
        if ticket.moved_from_thread_id is not None:
            # A moved ticket's new place is known now: the old topic links to it and closes.
            team = await uow.teams.get(ticket.team_id) if ticket.team_id is not None else None
            for moved in self.presenter.moved_away(ticket, team):
                await uow.outbox.add(moved, now)
            ticket.moved_from_chat_id = ticket.moved_from_thread_id = None

    async def _copied_to_agents(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        message = await self._message(uow, call.ref_id or 0)
        _record_copy(message, call, params, result["message_id"], to_agents=True)

    async def _copied_to_customer(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        message = await self._message(uow, call.ref_id or 0)
        _record_copy(message, call, params, result["message_id"], to_agents=False)

    async def _album_copied(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        to_agents = call.on_sent is OnSent.ALBUM_TO_AGENTS
        by_source = {
            (m.customer_message_id if to_agents else m.agent_message_id): m
            for m in await uow.messages.album(call.ref_id or 0, _group_of(call))
        }
        for source_id, copy in zip(params["message_ids"], result, strict=False):
            message = by_source.get(source_id)
            if message is not None:
                _record_copy(message, call, params, copy["message_id"], to_agents=to_agents)

    async def on_failed(
        self, uow: AbstractUnitOfWork, call: OutboundCall, error: str, now: datetime
    ) -> None:
        """A call failed for good: if a customer did not get something, tell the agents."""
        if call.on_sent is OnSent.BULK_REPLY:  # counted on the incident's card, not one line each
            await incidents.delivered(uow, self.presenter, call.ref_id or 0, ok=False, now=now)
            return
        if _is_group(call.chat_id) or call.ticket_id is None:
            return
        ticket = await uow.tickets.get(call.ticket_id)
        if ticket is None:
            return
        if call.channel is Channel.TELEGRAM and any(h in error.lower() for h in BLOCKED_HINTS):
            customer = await uow.customers.get(ticket.customer_id)
            if customer is not None:
                customer.blocked_bot = True
        calls = self.presenter.delivery_failed(ticket, error) + self.presenter.card_changed(ticket)
        for c in calls:
            await uow.outbox.add(c, now)


def _record_copy(
    message: TicketMessage, call: OutboundCall, params: Any, copy_id: int, *, to_agents: bool
) -> None:
    """Remember where a message's copy landed: routing between the sides uses these ids."""
    if to_agents:
        message.agent_chat_id = call.chat_id
        message.agent_message_id = copy_id
        message.agent_thread_id = params.get("message_thread_id")
    else:
        message.customer_chat_id = call.chat_id
        message.customer_message_id = copy_id


def _is_group(chat_id: int) -> bool:
    """Groups have negative chat ids; people's private chats positive ones."""
    return chat_id < 0


def _reply_to(message_id: int | None) -> Any:
    if message_id is None:
        return _DROP
    return {"message_id": message_id, "allow_sending_without_reply": True}


def _group_of(call: OutboundCall) -> str:
    album = call.params["message_ids"]
    assert isinstance(album, Ref)
    return album.group or ""


Resolver = Callable[[DeliveryAdapter, AbstractUnitOfWork, Ref, datetime], Awaitable[Any]]
Hook = Callable[
    [DeliveryAdapter, AbstractUnitOfWork, OutboundCall, Any, Any, datetime], Awaitable[None]
]

_REFS: dict[RefKind, Resolver] = {
    RefKind.THREAD: DeliveryAdapter._thread,
    RefKind.CARD: DeliveryAdapter._card,
    RefKind.REPLY_CARD: DeliveryAdapter._reply_card,
    RefKind.CARD_TEXT: DeliveryAdapter._card_text,
    RefKind.CARD_MARKUP: DeliveryAdapter._card_markup,
    RefKind.TICKET_BUTTON: DeliveryAdapter._ticket_button,
    RefKind.REPLY_AGENTS_COPY: DeliveryAdapter._reply_agents_copy,
    RefKind.REPLY_CUSTOMER_COPY: DeliveryAdapter._reply_customer_copy,
    RefKind.CUSTOMER_COPY: DeliveryAdapter._customer_copy,
    RefKind.ALBUM_FOR_AGENTS: DeliveryAdapter._album,
    RefKind.ALBUM_FOR_CUSTOMER: DeliveryAdapter._album,
    RefKind.TRIAGE_THREAD: DeliveryAdapter._triage_thread,
    RefKind.NOT_SURE_TEXT: DeliveryAdapter._not_sure_text,
    RefKind.NOT_SURE_POST: DeliveryAdapter._not_sure_post,
    RefKind.INCIDENT_THREAD: DeliveryAdapter._incident_thread,
    RefKind.INCIDENT_CARD: DeliveryAdapter._incident_card,
    RefKind.INCIDENT_CARD_TEXT: DeliveryAdapter._incident_card_text,
    RefKind.INCIDENT_CARD_MARKUP: DeliveryAdapter._incident_card_markup,
    RefKind.MAIL_THREAD: DeliveryAdapter._mail_thread,
    RefKind.MAIL_FILE: DeliveryAdapter._mail_file,
}
_HOOKS: dict[OnSent, Hook] = {
    OnSent.TOPIC: DeliveryAdapter._topic_created,
    OnSent.CARD: DeliveryAdapter._card_sent,
    OnSent.COPIED_TO_AGENTS: DeliveryAdapter._copied_to_agents,
    OnSent.COPIED_TO_CUSTOMER: DeliveryAdapter._copied_to_customer,
    OnSent.ALBUM_TO_AGENTS: DeliveryAdapter._album_copied,
    OnSent.ALBUM_TO_CUSTOMER: DeliveryAdapter._album_copied,
    OnSent.TRIAGE_TOPIC: DeliveryAdapter._triage_topic,
    OnSent.NOT_SURE: DeliveryAdapter._not_sure_posted,
    OnSent.NOT_SURE_SETTLED: DeliveryAdapter._not_sure_settled,
    OnSent.RATING_PROMPT: DeliveryAdapter._rating_prompt,
    OnSent.INCIDENT_TOPIC: DeliveryAdapter._incident_topic,
    OnSent.INCIDENT_CARD: DeliveryAdapter._incident_card_sent,
    OnSent.BULK_REPLY: DeliveryAdapter._bulk_reply_sent,
    OnSent.MAILED: DeliveryAdapter._mailed,
}
