"""The machinery's upkeep and state: pruning the delivery logs (bot.services.housekeeping),
``/health``, ``/failed`` and the agents' group's delay notice (bot.services.health)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import health, housekeeping
from models import NotAllowed, Team
from models.delivery import Appearance, OutboundCall, OutboxStatus
from models.mail import MailStatus
from tests.support.fake_uow import FakeDatabase
from tests.support.services import ADA, AGENTS_CHAT, BOB, T0, store, store_staff

OLD = T0 - timedelta(days=10)
NOW = T0
RETENTION = timedelta(days=7)
TEAM_GROUP = -1002000000002


def call(chat_id: int = AGENTS_CHAT) -> OutboundCall:
    return OutboundCall(chat_id, "sendMessage", {"chat_id": chat_id, "text": "hi"})


async def queue_calls(
    db: FakeDatabase, *outcomes: tuple[OutboxStatus, datetime], chat_id: int = AGENTS_CHAT
) -> None:
    """One call per ``(status, queued at)``, queued then settled as the sender does."""
    async with db.uow() as uow:
        for _, at in outcomes:
            await uow.outbox.add(call(chat_id), at)
        await uow.commit()
    pending = [c for c in db.outbox if c.status is OutboxStatus.PENDING]
    async with db.uow() as uow:
        for queued, (status, _) in zip(pending[-len(outcomes) :], outcomes, strict=True):
            assert queued.id is not None
            if status is OutboxStatus.SENT:
                await uow.outbox.mark_sent(queued.id, {"message_id": 1}, NOW)
            elif status is not OutboxStatus.PENDING:
                await uow.outbox.give_up(queued.id, status, f"{status} error")
        await uow.commit()


async def receive(db: FakeDatabase, update_id: int, at: datetime, outcome: str) -> None:
    """An update received ``at``, then done, parked or left pending."""
    async with db.uow() as uow:
        await uow.inbox.add_many([(update_id, "{}")], at)
        if outcome == "done":
            await uow.inbox.mark_done(update_id, NOW)
        elif outcome == "parked":
            await uow.inbox.record_failure(update_id, "boom", NOW, park=True)
        await uow.commit()


async def mail(db: FakeDatabase, message_id: str, status: MailStatus, at: datetime) -> None:
    async with db.uow() as uow:
        stored = await uow.mail.store(message_id, b"raw", at)
        if status is MailStatus.PARKED:
            for _ in range(5):
                await uow.mail.failed(stored.id, "unreadable")
        elif status is not MailStatus.PENDING:
            await uow.mail.settle(stored.id, status, at)
        await uow.commit()


class TestPruneDeliveryLog:
    async def test_only_old_delivered_rows_go_in_batches(self, db: FakeDatabase) -> None:
        for update_id in (1, 2, 3):
            await receive(db, update_id, OLD, "done")
        await receive(db, 4, NOW, "done")
        await receive(db, 5, OLD, "pending")
        await receive(db, 6, OLD, "parked")
        await queue_calls(
            db,
            (OutboxStatus.SENT, OLD),
            (OutboxStatus.SKIPPED, OLD),
            (OutboxStatus.FAILED, OLD),
            (OutboxStatus.UNKNOWN, OLD),
            (OutboxStatus.PENDING, OLD),
            (OutboxStatus.SENT, NOW),
        )
        async with db.uow() as uow:
            await uow.shown.record(Appearance(AGENTS_CHAT, 1, "b", "m"), OLD)
            await uow.shown.record(Appearance(AGENTS_CHAT, 2, "b", "m"), NOW)
            await uow.commit()
        await mail(db, "<a@x>", MailStatus.DONE, OLD)
        await mail(db, "<b@x>", MailStatus.SKIPPED, OLD)
        await mail(db, "<c@x>", MailStatus.PARKED, OLD)
        await mail(db, "<d@x>", MailStatus.DONE, NOW)

        report = await housekeeping.prune_delivery_log(db.uow, NOW, RETENTION, batch=2)

        assert report == housekeeping.PruneReport(inbox=3, outbox=2, shown=1, mails=2)
        assert sorted(db.state.table("inbox")) == [4, 5, 6]
        assert [c.status for c in db.outbox] == [
            OutboxStatus.FAILED,
            OutboxStatus.UNKNOWN,
            OutboxStatus.PENDING,
            OutboxStatus.SENT,
        ]
        assert list(db.state.shown) == [(AGENTS_CHAT, 2)]
        mails = {r.message_id: r.raw for r in db.state.table("mails").values()}
        assert mails == {"<a@x>": None, "<b@x>": None, "<c@x>": b"raw", "<d@x>": b"raw"}

    async def test_an_empty_log_prunes_nothing(self, db: FakeDatabase) -> None:
        report = await housekeeping.prune_delivery_log(db.uow, NOW, RETENTION)
        assert report == housekeeping.PruneReport(0, 0, 0, 0)


@dataclass
class Counters:
    sent_count: int = 7
    retry_after_count: int = 2
    unchanged_skipped: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class TestHealth:
    async def test_admins_see_the_queues_and_each_teams_group(self, db: FakeDatabase) -> None:
        await store_staff(db)
        await store(db, Team(name="Billing", group_chat_id=TEAM_GROUP), Team(name="Sales"))
        await receive(db, 1, NOW - timedelta(seconds=30), "pending")
        await receive(db, 2, OLD, "parked")
        await queue_calls(
            db,
            (OutboxStatus.PENDING, NOW - timedelta(minutes=3)),
            (OutboxStatus.FAILED, OLD),
            (OutboxStatus.SENT, OLD),
        )
        await queue_calls(
            db, (OutboxStatus.PENDING, NOW - timedelta(minutes=1)), chat_id=TEAM_GROUP
        )
        await mail(db, "<a@x>", MailStatus.PENDING, NOW)
        async with db.uow() as uow:
            state = await health.health(uow, ADA, Counters(), NOW, AGENTS_CHAT)
        assert (state.inbox_pending, state.inbox_parked, state.inbox_oldest_pending_s) == (
            1,
            1,
            30.0,
        )
        assert (state.outbox_pending, state.outbox_failed, state.outbox_oldest_pending_s) == (
            2,
            1,
            180.0,
        )
        assert (state.agents_group_queued, state.agents_group_behind_s) == (1, 180.0)
        assert (state.sent_since_start, state.rate_limited_since_start) == (7, 2)
        assert (state.mail_pending, state.mail_parked) == (1, 0)
        assert state.team_groups == (health.GroupBacklog(("Billing",), 1, 60.0, TEAM_GROUP),)

    async def test_agents_may_not_look(self, db: FakeDatabase) -> None:
        await store_staff(db)
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await health.health(uow, BOB, Counters(), NOW)
            with pytest.raises(NotAllowed):
                await health.failures(uow, BOB)

    async def test_failures_list_parked_updates_failed_calls_and_parked_mails(
        self, db: FakeDatabase
    ) -> None:
        await store_staff(db)
        await receive(db, 9, OLD, "parked")
        await receive(db, 10, OLD, "done")
        await queue_calls(db, (OutboxStatus.UNKNOWN, OLD), (OutboxStatus.SENT, OLD))
        await mail(db, "<c@x>", MailStatus.PARKED, OLD)
        async with db.uow() as uow:
            found = await health.failures(uow, ADA)
        assert found.parked_updates == [(9, 1, "boom")]
        assert [(c.status, c.last_error) for c in found.failed_calls] == [
            (OutboxStatus.UNKNOWN, "unknown error")
        ]
        assert found.parked_mails == [("<c@x>", 5, "unreadable")]


class TestWarnIfBehind:
    async def warn(self, db: FakeDatabase, presenter: Presenter, chat: int, now: datetime) -> bool:
        async with db.uow() as uow:
            return await health.warn_if_behind(uow, presenter, chat, now)

    async def test_a_group_behind_hears_it_once_per_quarter_hour(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await queue_calls(db, (OutboxStatus.PENDING, NOW - timedelta(minutes=5)))
        assert await self.warn(db, presenter, AGENTS_CHAT, NOW)
        notice = db.outbox[-1]
        assert (notice.chat_id, "5 minutes behind" in notice.params["text"]) == (AGENTS_CHAT, True)
        assert not await self.warn(db, presenter, AGENTS_CHAT, NOW + timedelta(minutes=10))
        assert await self.warn(db, presenter, AGENTS_CHAT, NOW + timedelta(minutes=16))
        assert len(db.outbox) == 3  # the waiting call and two notices

    async def test_a_teams_group_has_its_own_notice(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await queue_calls(db, (OutboxStatus.PENDING, NOW - timedelta(minutes=5)))
        await queue_calls(
            db, (OutboxStatus.PENDING, NOW - timedelta(minutes=5)), chat_id=TEAM_GROUP
        )
        assert await self.warn(db, presenter, AGENTS_CHAT, NOW)
        assert await self.warn(db, presenter, TEAM_GROUP, NOW)
        assert db.outbox[-1].chat_id == TEAM_GROUP
        assert f"{health.BEHIND_NOTICE_KEY}:{TEAM_GROUP}" in db.settings

    async def test_a_short_queue_or_a_switched_off_notice_says_nothing(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await queue_calls(db, (OutboxStatus.PENDING, NOW - timedelta(minutes=1)))
        assert not await self.warn(db, presenter, AGENTS_CHAT, NOW)  # under the 2 minutes
        db.state.settings["setting:group_delay_notice"] = "0"
        assert not await self.warn(db, presenter, AGENTS_CHAT, NOW + timedelta(hours=1))
        assert len(db.outbox) == 1
