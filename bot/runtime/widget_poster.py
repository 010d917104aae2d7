"""Delivers the desk's texts to website visitors: stores them in the visitor's conversation,
where the widget fetches them (:mod:`bot.api.widget`), and wakes the widgets waiting for them.

The :class:`~bot.runtime.sender.Sender` hands outbox rows of the web channel (one queue per
visitor, in order) to :meth:`WidgetPoster.send`. Storing is the delivery: the row is written
and committed here, carrying its outbox call's id (unique), and only then is the call marked
sent. A crash between the two sends the call again, and the second store finds the first:
each text reaches the conversation exactly once, in the order the desk wrote them.

An agent's reply to a visitor who is away (:meth:`models.widget.Visitor.away`) and left an
address is also queued as a mail (when the email channel is on), in the transaction that
stores it: so it is mailed once too.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from bot.runtime.webhook_poster import Outcome
from bot.services.ports import UowFactory
from models.delivery import OutboundCall, OutboxStatus
from models.mail import mail_call
from models.widget import Visitor


class WidgetHub:
    """Wakes the requests of one process that wait for a visitor's new messages. With several
    workers the waiter also looks at the database every ``recheck`` seconds: the text may
    have been stored by another worker."""

    def __init__(self, recheck: float = 2.0) -> None:
        self.recheck = recheck
        self._events: dict[int, asyncio.Event] = {}
        #: Shutting down: waiting readers are answered at once, new ones do not wait.
        self.closed = False

    def close(self) -> None:
        self.closed = True
        for event in self._events.values():
            event.set()
        self._events.clear()

    def listen(self, customer_id: int) -> asyncio.Event:
        """The event set when ``customer_id``'s conversation grows (take it before reading,
        so a text stored in between is not missed)."""
        if len(self._events) > 10_000 and customer_id not in self._events:
            for event in self._events.values():  # readers that left: the rest just read again
                event.set()
            self._events.clear()
        return self._events.setdefault(customer_id, asyncio.Event())

    def wake(self, customer_id: int) -> None:
        event = self._events.pop(customer_id, None)
        if event is not None:
            event.set()

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        """Until ``event`` is set, or ``seconds`` (at most ``recheck``) have passed."""
        if self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(seconds, self.recheck))


class WidgetPoster:
    def __init__(self, uow_factory: UowFactory, hub: WidgetHub, *, mail: bool = False) -> None:
        """``mail``: the email channel is on (replies to visitors away may be mailed)."""
        self.uow_factory = uow_factory
        self.hub = hub
        self.mail = mail
        self.sent_count = 0

    async def send(
        self, call: OutboundCall, params: dict[str, Any]
    ) -> tuple[Outcome, dict[str, Any]]:
        """Store ``call``'s text for its visitor (``call.chat_id``: the customer); a visitor
        who is no longer there fails the call."""
        assert call.id is not None
        now = datetime.now(UTC)
        async with self.uow_factory() as uow:
            visitor, new = await uow.widget.deliver(
                call.chat_id, call.id, str(params["text"]), call.ticket_id, now
            )
            mail = self._mail_if_away(visitor, call, params, now) if new else None
            if mail is not None:
                await uow.outbox.add(mail, now)
            await uow.commit()
        if visitor is None:
            return Outcome(error="no such visitor", give_up=OutboxStatus.FAILED), {}
        self.sent_count += 1
        self.hub.wake(call.chat_id)
        return Outcome(status=200), {"stored": True}

    def _mail_if_away(
        self, visitor: Visitor | None, call: OutboundCall, params: dict[str, Any], now: datetime
    ) -> OutboundCall | None:
        """The mail of an agent's reply to a visitor who is away and left an address."""
        away_mail = params.get("away_mail")
        if not (self.mail and away_mail and visitor and visitor.email and visitor.away(now)):
            return None
        return mail_call(
            call.chat_id,
            visitor.email,
            str(away_mail["name"]),
            subject=str(away_mail["subject"]),
            html=str(away_mail["html"]),
            ticket_id=call.ticket_id,
            auto=False,
        )
