"""The incident card pinned in the incident's topic: its text and its buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.adapters.labels import category_label
from bot.callbacks import IncidentAction, IncidentCb
from bot.texts import cut_utf16
from models import Ticket
from models.incidents import BulkReply, Incident, IncidentStatus

#: How many of the newest tickets the card quotes (each with a button to detach it).
SAMPLE_SHOWN = 5
QUOTE_CHARS = 160


@dataclass(frozen=True)
class IncidentView:
    """What the card shows besides the incident itself (read when the edit is made)."""

    linked: int
    active: int
    first: Ticket | None
    latest: Ticket | None
    sample: list[Ticket]
    reply: BulkReply | None


def _quote(ticket: Ticket) -> str:
    return f"#{ticket.number}: <i>{escape(cut_utf16(ticket.subject, QUOTE_CHARS))}</i>"


def render_incident_card(
    incident: Incident, view: IncidentView, local_time: Callable[[datetime], str]
) -> str:
    """The card text in the current locale (HTML, every customer's text escaped)."""
    status = {
        IncidentStatus.OPEN: "🔴 " + _("open"),
        IncidentStatus.RESOLVED: "✅ " + _("resolved"),
        IncidentStatus.SPLIT: "🔀 " + _("split into separate tickets"),
    }[incident.status]
    lines = [
        "🚨 <b>" + _("Incident {number}").format(number=incident.number) + "</b> · " + status,
        escape(incident.subject),
        "",
        _("Tickets: {linked} ({active} active)").format(linked=view.linked, active=view.active),
        _("Category: {category}").format(category=escape(category_label(incident.category))),
    ]
    if view.first is not None:
        lines.append(
            _("First: {when} · {quote}").format(
                when=local_time(view.first.created_at), quote=_quote(view.first)
            )
        )
    if view.latest is not None and view.latest is not view.first:
        lines.append(
            _("Latest: {when} · {quote}").format(
                when=local_time(view.latest.updated_at or view.latest.created_at),
                quote=_quote(view.latest),
            )
        )
    if view.sample:
        lines += ["", _("Newest tickets:")] + [_quote(t) for t in view.sample]
    if view.reply is not None:
        progress = _("Reply sent to {sent}/{total}").format(
            sent=view.reply.sent, total=view.reply.total
        )
        if view.reply.failed:
            progress += " · " + _("{count} not delivered").format(count=view.reply.failed)
        lines += ["", "📨 " + progress]
    if incident.is_open:
        lines += [
            "",
            _(
                "Write here to answer every linked customer at once; // starts an internal "
                "note. {command} gives one ticket its own topic."
            ).format(command="/detach &lt;number&gt;"),
        ]
    return "\n".join(lines)


def incident_keyboard(incident: Incident, sample: list[Ticket]) -> InlineKeyboardBuilder:
    """Resolve all, split, and detach for the tickets the card quotes (none once closed)."""
    kb = InlineKeyboardBuilder()
    if not incident.is_open:
        return kb
    i = incident.id or 0
    kb.button(
        text="✅ " + _("Resolve all"), callback_data=IncidentCb(a=IncidentAction.RESOLVE, i=i)
    )
    kb.button(text="🔀 " + _("Split"), callback_data=IncidentCb(a=IncidentAction.SPLIT, i=i))
    for ticket in sample:
        kb.button(
            text=f"✂️ #{ticket.number}",
            callback_data=IncidentCb(a=IncidentAction.DETACH, i=i, t=ticket.id or 0),
        )
    kb.adjust(2, SAMPLE_SHOWN)
    return kb
