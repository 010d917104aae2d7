"""What admins see about the machinery: queues, failures, the sender's counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.services import desk_settings
from bot.services.auth import require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import Role
from models.delivery import InboxStatus, OutboundCall
from models.mail import MailStatus
from storage import AbstractUnitOfWork


class SenderCounters(Protocol):
    sent_count: int
    retry_after_count: int
    unchanged_skipped: int

    @property
    def errors(self) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class GroupBacklog:
    """A team's own agents' group: the teams working there, and its own queue."""

    teams: tuple[str, ...]
    queued: int
    behind_s: float
    chat_id: int = 0


@dataclass(frozen=True)
class Health:
    inbox_pending: int
    inbox_parked: int
    inbox_oldest_pending_s: float
    outbox_pending: int
    outbox_oldest_pending_s: float
    outbox_failed: int
    outbox_unknown: int
    sent_since_start: int
    rate_limited_since_start: int
    #: Calls waiting for the agents' group, and how long the oldest of them has waited.
    agents_group_queued: int = 0
    agents_group_behind_s: float = 0.0
    #: The same for each team's own group (``/health`` only).
    team_groups: tuple[GroupBacklog, ...] = ()
    #: Incoming mails waiting to be applied, and given up on (the email channel).
    mail_pending: int = 0
    mail_parked: int = 0


@dataclass(frozen=True)
class Failures:
    parked_updates: list[tuple[int, int, str | None]]
    failed_calls: list[OutboundCall]
    #: Mails given up on: message id, attempts, the last error.
    parked_mails: list[tuple[str, int, str | None]] = field(default_factory=list)


async def health(
    uow: AbstractUnitOfWork,
    user: TelegramUser,
    counters: SenderCounters,
    now: datetime,
    agent_chat_id: int | None = None,
) -> Health:
    """``/health`` for admins (with the queue of each team's own group)."""
    await require_agent(uow, user, Role.ADMIN)
    state = await queue_state(uow, counters, now, agent_chat_id)
    return replace(state, team_groups=await team_backlogs(uow, now))


async def team_backlogs(uow: AbstractUnitOfWork, now: datetime) -> tuple[GroupBacklog, ...]:
    """The queue of each team's own agents' group (``/health`` and the metrics)."""
    by_group: dict[int, list[str]] = {}
    for team in await uow.teams.list():
        if team.group_chat_id is not None:
            by_group.setdefault(team.group_chat_id, []).append(team.name)
    backlogs = []
    for chat_id, teams in sorted(by_group.items()):
        queued, oldest = await uow.outbox.backlog(chat_id)
        behind = (now - oldest).total_seconds() if oldest else 0.0
        backlogs.append(GroupBacklog(tuple(teams), queued, behind, chat_id))
    return tuple(backlogs)


async def queue_state(
    uow: AbstractUnitOfWork,
    counters: SenderCounters,
    now: datetime,
    agent_chat_id: int | None = None,
) -> Health:
    """The queues and counters, for ``/health`` and the metrics endpoint (with the agents'
    group's own backlog when ``agent_chat_id`` is given)."""
    inbox = await uow.inbox.counts()
    oldest_in = await uow.inbox.oldest_pending()
    outbox = await uow.outbox.stats(now)
    queued, oldest_group = (
        await uow.outbox.backlog(agent_chat_id) if agent_chat_id is not None else (0, None)
    )
    mails = await uow.mail.counts()
    return Health(
        inbox_pending=inbox.get(str(InboxStatus.PENDING), 0),
        inbox_parked=inbox.get(str(InboxStatus.PARKED), 0),
        inbox_oldest_pending_s=(now - oldest_in).total_seconds() if oldest_in else 0.0,
        outbox_pending=int(outbox["pending"]),  # type: ignore[call-overload]
        outbox_oldest_pending_s=float(outbox["oldest_pending_s"]),  # type: ignore[arg-type]
        outbox_failed=int(outbox["failed"]),  # type: ignore[call-overload]
        outbox_unknown=int(outbox["unknown"]),  # type: ignore[call-overload]
        sent_since_start=counters.sent_count,
        rate_limited_since_start=counters.retry_after_count,
        agents_group_queued=queued,
        agents_group_behind_s=(now - oldest_group).total_seconds() if oldest_group else 0.0,
        mail_pending=mails.get(str(MailStatus.PENDING), 0),
        mail_parked=mails.get(str(MailStatus.PARKED), 0),
    )


#: Agents hear at most this often that their group is behind.
BEHIND_NOTICE_EVERY = timedelta(minutes=15)
#: When the agents last heard it (desk settings key).
BEHIND_NOTICE_KEY = "group_behind_notice_at"


async def warn_if_behind(
    uow: AbstractUnitOfWork, presenter: Presenter, agent_chat_id: int, now: datetime
) -> bool:
    """One line in an agents' group (the main one, or a team's) when its queue is further
    behind than the ``group_delay_notice`` setting, at most once per
    :data:`BEHIND_NOTICE_EVERY` in each group; it goes ahead of the queue it talks about.
    Returns whether it was queued."""
    threshold = await desk_settings.get(uow, "group_delay_notice")
    if not threshold:
        return False
    queued, oldest = await uow.outbox.backlog(agent_chat_id)
    if oldest is None or now - oldest < threshold:
        return False
    main = agent_chat_id == presenter.agent_chat_id
    key = BEHIND_NOTICE_KEY if main else f"{BEHIND_NOTICE_KEY}:{agent_chat_id}"
    last = await uow.desk_settings.get(key)
    if last is not None and now - datetime.fromisoformat(last) < BEHIND_NOTICE_EVERY:
        return False
    await uow.desk_settings.set(key, now.isoformat())
    chat = None if main else agent_chat_id
    await queue(uow, presenter.group_behind(queued, now - oldest, chat), now)
    await uow.commit()
    return True


async def failures(uow: AbstractUnitOfWork, user: TelegramUser) -> Failures:
    await require_agent(uow, user, Role.ADMIN)
    return Failures(await uow.inbox.parked(), await uow.outbox.failed(), await uow.mail.parked())
