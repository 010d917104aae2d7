"""The ticket commands' words and the card buttons' data, parsed at the edge: ``/close`` ->
``ChangeStatus(CLOSED)``, the card's "High" button -> ``ChangePriority(HIGH)``.

The use cases (``bot.services.desk.ticket_command``, ``card_button``) are handed the typed
value and never see a command word or a button string; a missing or unknown argument is
explained before anything is looked up.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.callbacks import CardAction
from bot.services import desk
from models import InvalidInput, TicketStatus, parse_status
from models.ids import parse_id


def _status(arg: str) -> desk.TicketCommand:
    if not arg:
        raise InvalidInput("status", "", "give a status")
    return desk.ChangeStatus(parse_status(arg))


def _priority(arg: str) -> desk.TicketCommand:
    if not arg:
        raise InvalidInput("priority", "", "give a priority")
    return desk.ChangePriority(desk.parse_priority(arg))


def _note(arg: str) -> desk.TicketCommand:
    if not arg:
        raise InvalidInput("note", "", "write the note after /note")
    return desk.WriteNote(arg)


def _assign(arg: str) -> desk.TicketCommand:
    if arg in ("", "me"):
        return desk.Assign(me=True)
    if arg.lower() in ("none", "nobody", "-"):
        return desk.Assign()
    return desk.Assign(who=arg)


def _team(arg: str) -> desk.TicketCommand:
    if not arg:
        raise InvalidInput("team", "", "give a team name, or 'none'")
    return desk.MoveToTeam(None if arg.lower() in ("none", "-") else arg)


def _canned(arg: str) -> desk.TicketCommand:
    if not arg:
        raise InvalidInput("key", "", "usage: /c <key>; /canned list shows the keys")
    return desk.SendCanned(arg)


def _history(_arg: str) -> desk.TicketCommand:
    return desk.ShowHistory()


def _untag(arg: str) -> desk.TicketCommand:
    return desk.ChangeTags(arg, remove=True)


def _to(status: TicketStatus) -> Callable[[str], desk.TicketCommand]:
    def parse(_arg: str) -> desk.TicketCommand:
        return desk.ChangeStatus(status)

    return parse


#: Command word -> the parser of its argument.
TICKET_COMMANDS: dict[str, Callable[[str], desk.TicketCommand]] = {
    "note": _note,
    "status": _status,
    "assign": _assign,
    "team": _team,
    "priority": _priority,
    "category": desk.Recategorise,
    "close": _to(TicketStatus.CLOSED),
    "reopen": _to(TicketStatus.OPEN),
    "resolve": _to(TicketStatus.RESOLVED),
    "history": _history,
    "tag": desk.ChangeTags,
    "untag": _untag,
    "merge": desk.MergeInto,
    "c": _canned,
}


def card_press(action: CardAction, value: str) -> desk.CardPress:
    """What a card button asks for, from its callback data's action and value."""
    if action is CardAction.STATUS:
        return desk.ChangeStatus(parse_status(value))
    if action is CardAction.PRIORITY:
        return desk.ChangePriority(desk.parse_priority(value))
    if action is CardAction.TEAM:
        return desk.PickTeam(None if value in ("", "0") else _id("team", value, "no such team"))
    if action is CardAction.CATEGORY:
        return desk.PickCategory(_id("category", value, "no such category"))
    if action is CardAction.MENU:
        return desk.OpenMenu(value)
    if action is CardAction.CANNED:
        return desk.SendCanned(value)
    plain: dict[CardAction, desk.CardPress] = {
        CardAction.CLAIM: desk.Claim(),
        CardAction.BACK: desk.CloseMenu(),
        CardAction.OTHER: desk.MarkOutOfScope(),
    }
    return plain[action]


def _id(field: str, value: str, unknown: str) -> int:
    found = parse_id(value)
    if found is None:
        raise InvalidInput(field, value, unknown)
    return found
