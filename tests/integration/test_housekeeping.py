"""The delivery log is pruned after the retention period; what someone must look at stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.services.housekeeping import prune_delivery_log
from models.delivery import Appearance, OutboundCall, OutboxStatus
from models.mail import MailStatus

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=8), NOW - timedelta(days=1)
RETENTION = timedelta(days=7)

#: Outbox calls: (what becomes of them, when they were queued).
CALLS = [
    (OutboxStatus.SENT, OLD),
    (OutboxStatus.SKIPPED, OLD),
    (OutboxStatus.FAILED, OLD),
    (OutboxStatus.UNKNOWN, OLD),
    (OutboxStatus.PENDING, OLD),
    (OutboxStatus.SENT, RECENT),
]


def update(update_id: int) -> tuple[int, str]:
    return update_id, json.dumps({"update_id": update_id})


async def fill(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        await uow.inbox.add_many([update(i) for i in range(1, 8)], OLD)
        await uow.inbox.add_many([update(i) for i in range(8, 11)], RECENT)
        for uid in [*range(1, 6), 8, 9]:
            await uow.inbox.mark_done(uid, OLD)
        await uow.inbox.record_failure(6, "bad", OLD, park=True)  # parked: kept
        # 7 is old but still pending: kept
        for chat_id, (_, queued) in enumerate(CALLS, start=1):
            await uow.outbox.add(OutboundCall(chat_id, "sendMessage", {"text": "x"}), queued)
        await uow.commit()
    async with uow_factory() as uow:
        heads = {call.chat_id: call for call in await uow.outbox.heads()}
        for chat_id, (status, _) in enumerate(CALLS, start=1):
            call_id = heads[chat_id].id
            if status is OutboxStatus.SENT:
                await uow.outbox.mark_sent(call_id, {"message_id": 1}, NOW)
            elif status is not OutboxStatus.PENDING:
                await uow.outbox.give_up(call_id, status, "error")
        # What two cards show: one unchanged for longer than the retention, one edited since.
        await uow.shown.record(Appearance(-100, 1, "b", "m"), OLD)
        await uow.shown.record(Appearance(-100, 2, "b", "m"), OLD)
        await uow.shown.record(Appearance(-100, 2, None, "m2"), RECENT)
        await uow.commit()


async def test_old_done_updates_and_sent_calls_go_the_rest_stays(uow_factory: Any) -> None:
    await fill(uow_factory)

    report = await prune_delivery_log(uow_factory, NOW, RETENTION, batch=2)

    assert (report.inbox, report.outbox, report.shown) == (5, 2, 1)
    async with uow_factory() as uow:
        inbox = await uow.inbox.counts()
        outbox = await uow.outbox.stats(NOW)
        shown = [await uow.shown.get(-100, message_id) for message_id in (1, 2)]
    assert inbox == {"done": 2, "parked": 1, "pending": 2}
    assert [outbox[s] for s in ("sent", "failed", "unknown", "pending")] == [1, 1, 1, 1]
    assert shown == [None, ("b", "m2")]  # a keyboard edit keeps the body it did not change
    again = await prune_delivery_log(uow_factory, NOW, RETENTION, batch=2)
    assert (again.inbox, again.outbox, again.shown) == (0, 0, 0)


async def test_applied_mails_lose_their_bytes_not_their_message_ids(uow_factory: Any) -> None:
    """An old applied or skipped mail keeps its row (replies still thread by its message id;
    fetched again, it is still recognised) without its raw bytes; a parked one, a pending one
    and a recent one keep theirs."""
    raw = b"From: ann@example.com\r\nSubject: hi\r\n\r\nhello"
    async with uow_factory() as uow:
        stored = {
            name: await uow.mail.store(f"<{name}@example.com>", raw, OLD)
            for name in ("applied", "skipped", "parked", "pending", "recent")
        }
        await uow.mail.settle(stored["applied"].id, MailStatus.DONE, OLD)
        await uow.mail.settle(stored["skipped"].id, MailStatus.SKIPPED, OLD, reason="auto")
        await uow.mail.settle(stored["parked"].id, MailStatus.PARKED, OLD)
        await uow.mail.settle(stored["recent"].id, MailStatus.DONE, RECENT)
        await uow.commit()

    report = await prune_delivery_log(uow_factory, NOW, RETENTION, batch=1)

    assert report.mails == 2
    async with uow_factory() as uow:
        kept = {name: await uow.mail.by_message_id(f"<{name}@example.com>") for name in stored}
    assert {name: mail is not None and mail.raw is not None for name, mail in kept.items()} == {
        "applied": False,
        "skipped": False,
        "parked": True,
        "pending": True,
        "recent": True,
    }
    assert all(mail is not None for mail in kept.values())  # the rows stay
    assert (await prune_delivery_log(uow_factory, NOW, RETENTION)).mails == 0
