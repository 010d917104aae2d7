"""A ticket's events as sentences for ``/history``: who did what, with names, in the reader's
language (call these inside the reader's locale)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import priority_label, status_label
from bot.services.ports import HistoryNames
from models import ActorKind, EventKind, Priority, TicketEvent, TicketStatus
from models.training import OUT_OF_SCOPE


def event_sentence(event: TicketEvent, number: int | None, names: HistoryNames) -> str:
    """One event as a sentence; ``number`` is the ticket being shown (merged ones differ)."""
    who = _actor(event, names)
    render = _SENTENCES.get(event.kind)
    if render is None:
        return f"{who}: {escape(str(event.kind))}"  # a kind added without a sentence yet
    return render(event, who, number, names)


def _actor(event: TicketEvent, names: HistoryNames) -> str:
    actor = event.actor
    if actor.kind is ActorKind.AGENT and actor.id is not None:
        return escape(names.agents.get(actor.id, f"#{actor.id}"))
    if actor.kind is ActorKind.CUSTOMER:
        return escape(names.customer)
    if actor.kind is ActorKind.API and actor.id is not None:
        return escape(_("via API: {name}").format(name=names.api_keys.get(actor.id, actor.id)))
    return _("The desk")


def _agent(names: HistoryNames, value: str | None) -> str:
    agent_id = int(value) if value and value.isdigit() else None
    if agent_id is None:
        return escape(value or "?")
    return escape(names.agents.get(agent_id, f"#{agent_id}"))


def _status(value: str | None) -> str:
    try:
        return status_label(TicketStatus(value or ""))
    except ValueError:
        return escape(value or "?")


def _priority(value: str | None) -> str:
    try:
        return priority_label(Priority(value or ""))
    except ValueError:
        return escape(value or "?")


def _created(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} opened the ticket.").format(who=who)


def _status_changed(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} changed the status from “{old}” to “{new}”.").format(
        who=who, old=_status(e.old), new=_status(e.new)
    )


def _assigned(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    if e.new is None:
        return _("{who} took {agent} off the ticket.").format(who=who, agent=_agent(names, e.old))
    if e.actor.kind is ActorKind.AGENT and str(e.actor.id) == e.new:
        return _("{who} took the ticket.").format(who=who)
    return _("{who} assigned the ticket to {agent}.").format(who=who, agent=_agent(names, e.new))


def _priority_changed(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} changed the priority from “{old}” to “{new}”.").format(
        who=who, old=_priority(e.old), new=_priority(e.new)
    )


def _team_changed(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    if e.new is None:
        return _("{who} took the ticket away from its team.").format(who=who)
    team = names.teams.get(int(e.new), e.new) if e.new.isdigit() else e.new
    return _("{who} moved the ticket to the team {team}.").format(who=who, team=escape(team))


def _category_changed(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    if e.new is None:
        return _("{who} removed the category.").format(who=who)
    if e.new == OUT_OF_SCOPE:
        return _("{who} marked the ticket as fitting no category.").format(who=who)
    return _("{who} set the category to {category}.").format(who=who, category=escape(e.new))


def _triaged(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    category, _sep, confidence = (e.new or "").partition(":")
    if not category or category == "None":
        return _("The classifier found no category.")
    if not confidence:
        return _("The classifier chose the category {category}.").format(category=escape(category))
    percent = round(float(confidence) * 100)
    return _("The classifier chose the category {category} ({percent}% sure).").format(
        category=escape(category), percent=percent
    )


def _tagged(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} added the tag {tag}.").format(who=who, tag=escape(e.new or ""))


def _untagged(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} removed the tag {tag}.").format(who=who, tag=escape(e.old or ""))


def _merged(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    if e.old == str(number):
        return _("{who} merged this ticket into #{other}.").format(who=who, other=e.new)
    return _("{who} merged #{other} into this ticket.").format(who=who, other=e.old)


def _auto_answered(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("The desk answered automatically ({key}).").format(key=escape(e.new or ""))


def _wrote(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} wrote a message.").format(who=who)


def _noted(e: TicketEvent, who: str, number: int | None, names: HistoryNames) -> str:
    return _("{who} added an internal note.").format(who=who)


_SENTENCES: dict[EventKind, Callable[[TicketEvent, str, int | None, HistoryNames], str]] = {
    EventKind.CREATED: _created,
    EventKind.STATUS_CHANGED: _status_changed,
    EventKind.ASSIGNED: _assigned,
    EventKind.PRIORITY_CHANGED: _priority_changed,
    EventKind.TEAM_CHANGED: _team_changed,
    EventKind.CATEGORY_CHANGED: _category_changed,
    EventKind.TRIAGED: _triaged,
    EventKind.TAGGED: _tagged,
    EventKind.UNTAGGED: _untagged,
    EventKind.MERGED: _merged,
    EventKind.AUTO_ANSWERED: _auto_answered,
    EventKind.CUSTOMER_MESSAGE: _wrote,
    EventKind.AGENT_MESSAGE: _wrote,
    EventKind.NOTE_ADDED: _noted,
}
