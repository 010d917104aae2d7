"""Renderings for the agents' tools: assignment, collisions, canned answers, queues, merges,
bans. Mixed into :class:`bot.adapters.presenter.Presenter`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.history import event_sentence
from bot.adapters.labels import priority_label, status_label
from bot.adapters.markup import markup
from bot.callbacks import QueueCb
from bot.services.ports import HistoryNames
from bot.services.tools import SearchResult
from bot.texts import pick_language
from models import Agent, CannedAnswer, Customer, Ticket, TicketEvent, TicketMessage
from models.delivery import OnSent, OutboundCall, Ref, RefKind
from models.search import MARK_END, MARK_START, SearchHit


def ticket_url(chat_id: int, ticket: Ticket) -> str | None:
    """A t.me link to the ticket's topic (or card) for members of a supergroup."""
    if not str(chat_id).startswith("-100"):
        return None
    place = ticket.agent_thread_id or ticket.card_message_id
    return f"https://t.me/c/{str(chat_id)[4:]}/{place}" if place else None


def place(chat_id: int, thread_id: int | None) -> dict[str, Any]:
    return {"message_thread_id": thread_id} if thread_id else {}


def bold_marks(snippet: str) -> str:
    """A search snippet as HTML: escaped, its «marked» words bold, tags always balanced."""
    out: list[str] = []
    bold = False
    for char in snippet:
        if char == MARK_START and not bold:
            out.append("<b>")
            bold = True
        elif char == MARK_END and bold:
            out.append("</b>")
            bold = False
        elif char not in (MARK_START, MARK_END):
            out.append(escape(char))
    if bold:
        out.append("</b>")
    return "".join(out)


_NO_PREVIEW: dict[str, Any] = {"link_preview_options": {"is_disabled": True}}


class ToolsPresenterMixin:
    """Needs the host's ``agent_chat_id``, ``_locale``, ``_send(_recorded)``, ``_to_customer``
    and ``to_topic``."""

    agent_chat_id: int
    agent_chat_is_forum: bool
    group_of: Callable[[Ticket], int]
    default_language: str
    zone: str
    i18n: I18n
    _topic_state: Callable[..., list[OutboundCall]]
    _locale: Callable[..., AbstractContextManager[None]]
    _own_locale: Callable[[Agent], AbstractContextManager[None]]
    _send: Callable[..., list[OutboundCall]]
    _send_recorded: Callable[..., list[OutboundCall]]
    _to_customer: Callable[..., list[OutboundCall]]
    to_topic: Callable[[Ticket, str], list[OutboundCall]]

    def _say(
        self, chat_id: int, thread_id: int | None, text: str, **params: Any
    ) -> list[OutboundCall]:
        return self._send(chat_id, text, **place(chat_id, thread_id), **params)

    # -- assignment --------------------------------------------------------------------------

    def assigned_to_you(
        self, ticket: Ticket, agent: Agent, by: Agent | None
    ) -> list[OutboundCall]:
        """A direct message to the new assignee (in their language), with a button to the
        ticket's topic."""
        with self._own_locale(agent):
            if by is None:
                text = _("🎫 Ticket #{number} was assigned to you: {subject}")
            else:
                text = _("🎫 {who} assigned ticket #{number} to you: {subject}")
            text = text.format(
                number=ticket.number,
                subject=escape(ticket.subject),
                who=escape(by.name) if by else "",
            )
            button = _("Open ticket #{number}").format(number=ticket.number)
        # No ticket id on the call: a failure to reach the agent is not the customer's problem.
        return [
            OutboundCall(
                chat_id=agent.telegram_id,
                method="sendMessage",
                params={
                    "chat_id": agent.telegram_id,
                    "text": text,
                    "reply_markup": Ref(RefKind.TICKET_BUTTON, ticket.id, label=button),
                },
            )
        ]

    def availability(
        self, chat_id: int, thread_id: int | None, agent: Agent
    ) -> list[OutboundCall]:
        with self._locale():
            if agent.away:
                text = _("{name} is away: no new tickets will be assigned to them.")
            else:
                text = _("{name} is back and receives new tickets again.")
        return self._say(chat_id, thread_id, text.format(name=escape(agent.name)))

    # -- collisions --------------------------------------------------------------------------

    def collision(
        self, ticket: Ticket, agent: Agent, assignee: Agent | None, *, blocked: bool
    ) -> list[OutboundCall]:
        holder = escape(assignee.name) if assignee else "?"
        with self._locale():
            if blocked:
                text = _(
                    "⛔ Not sent: ticket #{number} is assigned to {holder}. It is kept as an "
                    "internal note; use /assign me to take the ticket, then answer again."
                )
            else:
                text = _("⚠️ {agent}, ticket #{number} is assigned to {holder}.")
        return self.to_topic(
            ticket, text.format(number=ticket.number, holder=holder, agent=escape(agent.name))
        )

    def double_reply(self, ticket: Ticket, first: Agent, second: Agent) -> list[OutboundCall]:
        with self._locale():
            text = _(
                "⚠️ Two agents answered the customer within a short time: {first} and {second}. "
                "Agree who continues."
            ).format(first=escape(first.name), second=escape(second.name))
        return self.to_topic(ticket, text)

    # -- canned answers ----------------------------------------------------------------------

    def canned_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        key: str,
    ) -> list[OutboundCall]:
        """The answer to the customer, and a record of it in the topic (so agents see it and
        can reply to it)."""
        with self._locale():
            record = "💬 " + _("{agent} sent the canned answer “{key}”:").format(
                agent=escape(agent.name), key=escape(key)
            )
        return self.auto_answered(ticket, customer, message) + self._record_in_topic(
            ticket, message, record
        )

    def api_to_customer(
        self, ticket: Ticket, customer: Customer, message: TicketMessage, key_name: str
    ) -> list[OutboundCall]:
        """A reply posted through the REST API: to the customer, and recorded in the topic."""
        with self._locale():
            record = "🔌 " + escape(_("via API: {name}").format(name=key_name))
        return self.auto_answered(ticket, customer, message) + self._record_in_topic(
            ticket, message, record
        )

    def api_note(
        self, ticket: Ticket, message: TicketMessage, key_name: str
    ) -> list[OutboundCall]:
        """An internal note posted through the REST API, shown in the topic only."""
        with self._locale():
            head = "📝 " + escape(_("Note via API: {name}").format(name=key_name))
        return self.to_topic(ticket, head + "\n\n" + escape(message.text or ""))

    def auto_answered(
        self, ticket: Ticket, customer: Customer, message: TicketMessage
    ) -> list[OutboundCall]:
        """A message written by the desk (not copied from the group) to the customer."""
        return self._send_recorded(customer, escape(message.text or ""), ticket, message)

    def _record_in_topic(
        self, ticket: Ticket, message: TicketMessage, head: str
    ) -> list[OutboundCall]:
        calls = self.to_topic(ticket, head + "\n\n" + escape(message.text or ""))
        calls[-1].on_sent = OnSent.COPIED_TO_AGENTS
        calls[-1].ref_id = message.id
        return calls

    def canned_list(
        self, chat_id: int, thread_id: int | None, answers: list[CannedAnswer]
    ) -> list[OutboundCall]:
        with self._locale():
            if not answers:
                return self._say(
                    chat_id,
                    thread_id,
                    _("No canned answers yet. Admins add them with /canned add."),
                )
            lines = [escape(_("Canned answers (send one with /c <key> in a ticket's topic):"))]
        by_key: dict[str, list[CannedAnswer]] = {}
        for a in answers:
            by_key.setdefault(a.key, []).append(a)
        for key, versions in by_key.items():
            languages = ", ".join(v.language for v in versions)
            category = next((v.category for v in versions if v.category), None)
            preview = " ".join(versions[0].text.split())[:60]
            head = f"<b>{escape(key)}</b> [{escape(languages)}]"
            if category:
                head += f" · {escape(category)}"
            lines.append(f"{head}\n  {escape(preview)}")
        return self._say(chat_id, thread_id, "\n".join(lines))

    def canned_changed(
        self, chat_id: int, thread_id: int | None, key: str, removed: int | None
    ) -> list[OutboundCall]:
        with self._locale():
            if removed is None:
                text = _("Canned answer “{key}” saved.")
            else:
                text = ngettext(
                    "Canned answer “{key}” deleted ({count} language version).",
                    "Canned answer “{key}” deleted ({count} language versions).",
                    removed or 0,
                )
        return self._say(chat_id, thread_id, text.format(key=escape(key), count=removed))

    # -- queues ------------------------------------------------------------------------------

    def queue_page(
        self,
        chat_id: int,
        thread_id: int | None,
        title: str,
        tickets: list[Ticket],
        total: int,
        page: int,
        pages: int,
        assignees: dict[int, str],
        buttons: tuple[QueueCb | None, QueueCb | None],
        edit_message_id: int | None = None,
    ) -> list[OutboundCall]:
        with self._locale():
            head = ngettext(
                "Queue “{title}”: {total} active ticket",
                "Queue “{title}”: {total} active tickets",
                total,
            ).format(title=escape(title), total=total)
            if pages > 1:
                head += " · " + _("page {page} of {pages}").format(page=page + 1, pages=pages)
            lines = [f"<b>{head}</b>"]
            if not tickets:
                lines.append(_("Nothing here."))
            for t in tickets:
                lines.append(self._queue_line(t, assignees))
        keyboard = InlineKeyboardBuilder()
        previous, following = buttons
        if previous is not None:
            keyboard.button(text="« " + str(page), callback_data=previous)
        if following is not None:
            keyboard.button(text=f"{page + 2} »", callback_data=following)
        params: dict[str, Any] = {"link_preview_options": {"is_disabled": True}}
        if previous is not None or following is not None:
            params["reply_markup"] = markup(keyboard)
        text = "\n".join(lines)
        if edit_message_id is not None:
            return [
                OutboundCall(
                    chat_id=chat_id,
                    method="editMessageText",
                    params={
                        "chat_id": chat_id,
                        "message_id": edit_message_id,
                        "text": text,
                        **params,
                    },
                    dedupe_key=f"queue:{chat_id}:{edit_message_id}",
                )
            ]
        return self._say(chat_id, thread_id, text, **params)

    def _queue_line(self, ticket: Ticket, assignees: dict[int, str]) -> str:
        url = ticket_url(self.group_of(ticket), ticket)
        number = f"#{ticket.number}"
        link = f'<a href="{url}">{number}</a>' if url else number
        marks = "🔥 " if ticket.sla_breached else ""
        who = escape(assignees.get(ticket.assignee_id or 0, "—"))
        subject = escape(ticket.subject[:60])
        tags = " ".join(f"#{escape(t)}" for t in ticket.tags)
        line = (
            f"{marks}{link} · {priority_label(ticket.priority)} · {status_label(ticket.status)}"
            f" · {who}\n  {subject}"
        )
        return line + (f" {tags}" if tags else "")

    def search_results(
        self, chat_id: int, thread_id: int | None, result: SearchResult
    ) -> list[OutboundCall]:
        hits = result.page.hits
        with self._locale():
            head = _("Nothing found for “{query}”.") if not hits else _("Found for “{query}”:")
            lines = ["🔎 " + head.format(query=escape(result.text))]
            for hit in hits:
                ticket = result.tickets.get(hit.ticket_id)
                url = ticket_url(self.group_of(ticket), ticket) if ticket else None
                lines.append(self._hit_line(hit, url))
            if result.page.has_more:
                lines.append(_("More tickets match: add words to narrow the search."))
        return self._say(chat_id, thread_id, "\n".join(lines), **_NO_PREVIEW)

    @staticmethod
    def _hit_line(hit: SearchHit, url: str | None) -> str:
        number = f"#{hit.ticket_number}"
        link = f'<a href="{url}">{number}</a>' if url else number
        snippet = bold_marks(hit.snippet)
        return f"{link} · {status_label(hit.status)} · {escape(hit.subject[:60])}\n  {snippet}"

    def ticket_link(
        self, chat_id: int, thread_id: int | None, ticket: Ticket, assignee: Agent | None
    ) -> list[OutboundCall]:
        """``/ticket N``: the ticket's line as in ``/queue``, with its assignee's name."""
        names = {assignee.id: assignee.name} if assignee and assignee.id else {}
        with self._locale():
            line = self._queue_line(ticket, names)
            if ticket.merged_into_id is not None:
                line += "\n" + _("(merged into another ticket)")
        return self._say(chat_id, thread_id, line, link_preview_options={"is_disabled": True})

    # -- merges and bans ---------------------------------------------------------------------

    def merged(
        self, ticket: Ticket, target: Ticket, customer: Customer, moved: int, *, reopened: bool
    ) -> list[OutboundCall]:
        url = ticket_url(self.group_of(target), target)
        target_ref = f'<a href="{url}">#{target.number}</a>' if url else f"#{target.number}"
        with self._locale():
            old_topic = "🔀 " + _(
                "Merged into ticket {target}: the conversation continues there."
            ).format(target=target_ref)
            new_topic = "🔀 " + ngettext(
                "Ticket #{number} was merged into this one ({count} message moved here).",
                "Ticket #{number} was merged into this one ({count} messages moved here).",
                moved,
            ).format(number=ticket.number, count=moved)
        with self._locale(customer):
            told = _(
                "Your request #{number} is now part of ticket #{target}; we continue there. "
                "Just keep writing in this chat."
            ).format(number=ticket.number, target=target.number)
        calls = self.to_topic(ticket, old_topic)
        calls += self._topic_state(ticket, reopen=False)
        if reopened:
            calls += self._topic_state(target, reopen=True)
        calls += self.to_topic(target, new_topic)
        return calls + self._to_customer(customer, told, ticket=target)

    def ban_changed(
        self, chat_id: int, thread_id: int | None, customer: Customer, agent: Agent
    ) -> list[OutboundCall]:
        with self._locale():
            if customer.banned:
                text = _("🚫 {customer} is banned by {agent}: {reason}").format(
                    customer=escape(customer.display_name),
                    agent=escape(agent.name),
                    reason=escape(customer.ban_reason or ""),
                )
            else:
                text = _("{customer} is no longer banned ({agent}).").format(
                    customer=escape(customer.display_name), agent=escape(agent.name)
                )
        return self._say(chat_id, thread_id, text)

    def banned_notice(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _("Support does not accept messages from you any more.")
        if customer.email is not None:
            return []  # an automatic answer to every mail is how mail loops start
        return self._to_customer(customer, text)

    def slow_down(self, customer: Customer) -> list[OutboundCall]:
        with self._locale(customer):
            text = _(
                "You are sending many messages at once. Everything you sent is saved in your "
                "ticket; please write fewer, longer messages so we can answer faster."
            )
        if customer.email is not None:
            return []  # an automatic answer to every mail is how mail loops start
        return self._to_customer(customer, text)

    # -- settings ----------------------------------------------------------------------------

    def said(
        self, chat_id: int, thread_id: int | None, lines: Iterator[str] | list[str]
    ) -> list[OutboundCall]:
        """Lines already rendered by a handler (command answers that change nothing)."""
        return self._say(chat_id, thread_id, "\n".join(lines))

    # -- history ---------------------------------------------------------------------------------

    def history(
        self,
        ticket: Ticket,
        events: list[TicketEvent],
        names: HistoryNames,
        reader_language: str | None,
    ) -> list[OutboundCall]:
        """The ticket's events as sentences with names and local times, in the language of the
        agent who asked."""
        zone = ZoneInfo(self.zone)
        with self.i18n.use_locale(pick_language(reader_language, self.default_language)):
            lines = [_("History of ticket #{number}:").format(number=ticket.number)]
            for e in events:
                sentence = event_sentence(e, ticket.number, names)
                number = names.numbers.get(e.ticket_id or 0, ticket.number)
                if number != ticket.number:
                    sentence = f"#{number}: {sentence}"
                lines.append(f"{e.at.astimezone(zone):%d.%m %H:%M} · {sentence}")
        return self.to_topic(ticket, "\n".join(lines))
