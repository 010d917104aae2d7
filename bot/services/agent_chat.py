"""What the start-up check found out about the agents' group, and telling the group once.

The check itself talks to Telegram (``bot/startup.py``); this module holds its typed result and
the one use case that needs the database: the group reads a warning about a degraded mode once,
not at every restart, and again only when what is missing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from models.delivery import OutboundCall
from storage import AbstractUnitOfWork

NOTICE_KEY = "startup:agent-chat-shortfalls"


class Shortfall(StrEnum):
    """Something the desk would use in the agents' group but may not."""

    NOT_ADMIN = "not an administrator"
    NO_TOPICS = "topics are switched off"
    CANNOT_MANAGE_TOPICS = "can_manage_topics"
    CANNOT_PIN = "can_pin_messages"


@dataclass(frozen=True)
class AgentChatCheck:
    #: Tickets get forum topics (else the plain-group mode: cards and replies in the main chat).
    forum: bool
    shortfalls: tuple[Shortfall, ...] = ()

    @property
    def mode(self) -> str:
        return "topics" if self.forum else "plain group"


def assess(*, is_forum: bool, status: str, rights: set[str]) -> AgentChatCheck:
    """The mode the desk runs in, given the group and the bot's membership there (its
    ``status`` and the ``can_...`` rights it holds; an owner holds them all).

    Topics need a forum and the right to manage topics; without them the desk falls back to the
    plain-group mode, which needs no right at all. Pinning cards is only done in topics.
    """
    is_admin = status in ("administrator", "creator")
    if status == "creator":
        rights = rights | {"can_manage_topics", "can_pin_messages"}
    shortfalls: list[Shortfall] = []
    if not is_admin:
        shortfalls.append(Shortfall.NOT_ADMIN)
    if not is_forum:
        shortfalls.append(Shortfall.NO_TOPICS)
    elif is_admin and "can_manage_topics" not in rights:
        shortfalls.append(Shortfall.CANNOT_MANAGE_TOPICS)
    forum = is_forum and not shortfalls
    if forum and "can_pin_messages" not in rights:
        shortfalls.append(Shortfall.CANNOT_PIN)
    return AgentChatCheck(forum=forum, shortfalls=tuple(shortfalls))


class ShortfallPresenter(Protocol):
    def agent_chat_shortfalls(self, check: AgentChatCheck) -> list[OutboundCall]: ...


async def announce_shortfalls(
    uow: AbstractUnitOfWork, presenter: ShortfallPresenter, check: AgentChatCheck, now: datetime
) -> bool:
    """Post the warning into the group unless the same one was posted before; True if posted."""
    fingerprint = ",".join(s.name for s in check.shortfalls)
    if (await uow.desk_settings.get(NOTICE_KEY) or "") == fingerprint:
        return False
    calls = presenter.agent_chat_shortfalls(check) if check.shortfalls else []
    for call in calls:
        await uow.outbox.add(call, now)
    await uow.desk_settings.set(NOTICE_KEY, fingerprint)
    await uow.commit()
    return bool(calls)
