"""The ticket card pinned in each topic: its text and its buttons."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.labels import category_label, priority_label, sla_label, status_label
from bot.callbacks import CardAction, Menu, SimilarAction, SimilarCb, TicketCb
from bot.texts import base_language
from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    Priority,
    Rating,
    Team,
    Ticket,
    TicketStatus,
)
from models.training import OUT_OF_SCOPE

# Statuses offered in the menu; New is where tickets start, not where agents put them.
MENU_STATUSES = [s for s in TicketStatus if s is not TicketStatus.NEW]


def _languages(customer: Customer) -> str:
    """The customer's own language as Telegram reports it (``de``) and, when the desk writes
    to them in another one (its default, or their choice), that one too."""
    own = customer.language_code or customer.language
    if own is None:
        return "?"
    shown = escape(own)
    if customer.language and base_language(own) != customer.language:
        shown += " (" + _("texts: {language}").format(language=escape(customer.language)) + ")"
    return shown


def render_card(
    ticket: Ticket,
    customer: Customer,
    *,
    earlier_tickets: int,
    team: Team | None,
    assignee: Agent | None,
    deadline: tuple[str, str] | None = None,
    rating: Rating | None = None,
    category_by: Agent | None = None,
    quote: str | None = None,
    via: Customer | None = None,
) -> str:
    """The card text in the current locale (HTML, every user-supplied value escaped);
    ``quote``: the customer's first message, when the card carries it (see
    :func:`models.quotable`); ``via``: for a customer with linked addresses, whom replies go
    to now (the customer themself, or one of the addresses)."""
    who = escape(customer.display_name)
    if customer.username:
        who += f" (@{escape(customer.username)})"
    if via is not None and via.email is not None:  # a linked address they last wrote from
        who += " · ✉️ " + _("via email: {address}").format(address=escape(via.email))
    elif via is not None:
        who += " · ✈️ " + _("via Telegram")
    elif customer.email is not None:  # the channel and the address replies go to
        who += " · ✉️ " + _("email: {address}").format(address=escape(customer.email))
    elif customer.visitor:  # replies go to the website chat widget
        who += " · 🌐 " + _("website chat")
    who += " · " + _languages(customer)
    lines = [
        f"🎫 <b>#{ticket.number}</b> · {escape(ticket.subject)}",
        "",
    ]
    if quote:
        lines += [f"<blockquote expandable>{escape(quote)}</blockquote>"]
    lines += [
        "👤 " + who,
        _("Earlier tickets: {count}").format(count=earlier_tickets),
        _("Category: {category}").format(category=escape(category_label(ticket.category))),
    ]
    if category_by is not None:  # a person's choice: the classifier's confidence is moot
        lines[-1] += " · " + _("set by {agent}").format(agent=escape(category_by.name))
    elif ticket.needs_human:
        lines[-1] += " · ⚠️ " + _("not sure, please check")
    elif ticket.triage_confidence is not None:
        lines[-1] += f" ({ticket.triage_confidence:.0%})"
    lines += [
        _("Team: {team}").format(team=escape(team.name) if team else "—"),
        _("Priority: {priority}").format(priority=priority_label(ticket.priority)),
        _("Status: {status}").format(status=status_label(ticket.status)),
        _("Assignee: {agent}").format(agent=escape(assignee.name) if assignee else "—"),
    ]
    if deadline is not None:
        kind, when = deadline
        lines.append("⏳ " + _("{target} due {when}").format(target=sla_label(kind), when=when))
    if ticket.sla_breached:
        lines.append("🔥 " + _("SLA breached"))
    if rating is not None:
        lines.append("⭐ " + _("Customer rating: {score}/5").format(score=rating.score))
        if rating.comment:
            lines.append("💬 " + escape(rating.comment))
    if ticket.tags:
        lines.append("🏷 " + " ".join(f"#{escape(t)}" for t in ticket.tags))
    if ticket.auto_answer:
        lines.append(
            "🤖 " + _("Answered automatically with “{key}”").format(key=escape(ticket.auto_answer))
        )
    if customer.banned:
        lines.append("🚫 " + _("The customer is banned."))
    if customer.blocked_bot:
        lines.append("⛔ " + _("The customer has blocked the bot: replies cannot be delivered."))
    return "\n".join(lines)


def card_keyboard(
    ticket: Ticket, suggestions: list[CannedAnswer] | None = None
) -> InlineKeyboardBuilder:
    """The card's buttons; until the first answer, suggested canned answers come first."""
    kb = InlineKeyboardBuilder()
    t = ticket.id or 0
    rows: list[int] = []
    if ticket.is_active and ticket.first_response_at is None:
        for answer in (suggestions or [])[:3]:
            kb.button(
                text="💬 " + answer.key,
                callback_data=TicketCb(a=CardAction.CANNED, t=t, v=str(answer.id)),
            )
            rows.append(1)
    if ticket.is_active:
        kb.button(text="🙋 " + _("Claim"), callback_data=TicketCb(a=CardAction.CLAIM, t=t))
        kb.button(
            text="📌 " + _("Status"), callback_data=TicketCb(a=CardAction.MENU, t=t, v=Menu.STATUS)
        )
        kb.button(
            text="⚡ " + _("Priority"),
            callback_data=TicketCb(a=CardAction.MENU, t=t, v=Menu.PRIORITY),
        )
        kb.button(
            text="👥 " + _("Team"), callback_data=TicketCb(a=CardAction.MENU, t=t, v=Menu.TEAM)
        )
        kb.button(
            text="🏷 " + _("Category"),
            callback_data=TicketCb(a=CardAction.MENU, t=t, v=Menu.CATEGORY),
        )
        kb.button(text="🔎 " + _("Similar"), callback_data=SimilarCb(a=SimilarAction.SHOW, t=t))
        if ticket.needs_human:
            # One tap for the commonest fix of a "not sure" ticket: it belongs nowhere.
            kb.button(
                text="🚫 " + _("Other / not a category"),
                callback_data=TicketCb(a=CardAction.OTHER, t=t),
            )
        kb.button(
            text="✅ " + _("Resolve"),
            callback_data=TicketCb(a=CardAction.STATUS, t=t, v=TicketStatus.RESOLVED),
        )
        kb.button(
            text="🔒 " + _("Close"),
            callback_data=TicketCb(a=CardAction.STATUS, t=t, v=TicketStatus.CLOSED),
        )
        kb.adjust(*rows, 3, 3, *([1] if ticket.needs_human else []), 2)
    elif ticket.merged_into_id is None:  # a merged ticket is final: no buttons at all
        kb.button(
            text="↩️ " + _("Reopen"),
            callback_data=TicketCb(a=CardAction.STATUS, t=t, v=TicketStatus.OPEN),
        )
        if ticket.status is TicketStatus.RESOLVED:
            kb.button(
                text="🔒 " + _("Close"),
                callback_data=TicketCb(a=CardAction.STATUS, t=t, v=TicketStatus.CLOSED),
            )
    return kb


def menu_keyboard(
    ticket: Ticket, menu: Menu, teams: list[Team], categories: list[Category]
) -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    t = ticket.id or 0
    if menu is Menu.STATUS:
        for status in MENU_STATUSES:
            mark = "• " if status is ticket.status else ""
            kb.button(
                text=mark + status_label(status),
                callback_data=TicketCb(a=CardAction.STATUS, t=t, v=status),
            )
    elif menu is Menu.PRIORITY:
        for priority in Priority:
            mark = "• " if priority is ticket.priority else ""
            kb.button(
                text=mark + priority_label(priority),
                callback_data=TicketCb(a=CardAction.PRIORITY, t=t, v=priority),
            )
    elif menu is Menu.CATEGORY:
        for category in categories[:30]:
            mark = "• " if category.key == ticket.category else ""
            kb.button(
                text=mark + category.title,
                callback_data=TicketCb(a=CardAction.CATEGORY, t=t, v=str(category.id)),
            )
        kb.button(
            text=("• " if ticket.category == OUT_OF_SCOPE else "") + _("Other / not a category"),
            callback_data=TicketCb(a=CardAction.OTHER, t=t),
        )
    else:
        for team in teams[:20]:
            mark = "• " if team.id == ticket.team_id else ""
            kb.button(
                text=mark + team.name,
                callback_data=TicketCb(a=CardAction.TEAM, t=t, v=str(team.id)),
            )
        kb.button(text=_("No team"), callback_data=TicketCb(a=CardAction.TEAM, t=t, v="0"))
    kb.button(text="« " + _("Back"), callback_data=TicketCb(a=CardAction.BACK, t=t))
    kb.adjust(2)
    return kb
