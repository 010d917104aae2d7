"""Sends the desk's mails over SMTP, and says what to do about each answer.

The :class:`~bot.runtime.sender.Sender` hands outbox rows of the email channel (one queue per
customer, in order) to :meth:`MailPoster.send`:

* accepted: sent; the mail's ``Message-ID`` is recorded with its ticket (replies thread by it);
* 4xx answers, refused connections, time-outs, dropped connections: retried with exponential
  back-off and jitter until ``max_age`` after the reply was written or ``max_attempts``;
* 5xx answers (an address that does not exist, a refused sender): failed at once.

A failure that gives up is shown in the ticket's topic, like a Telegram message that could
not be delivered. Every attempt sends the same ``Message-ID``, so a mail the server took
without our hearing of it (a time-out after the data) is recognisable as a duplicate.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiosmtplib

from bot.adapters.files import FileUnavailable, TelegramFiles
from bot.adapters.mail import Attachment, compose_mail
from bot.logs import get_logger
from bot.runtime.webhook_poster import Outcome, WebhookPolicy
from models.delivery import OutboundCall, OutboxStatus
from models.mail import MailServer

log = get_logger(__name__)

MAIL_POLICY = WebhookPolicy(
    timeout=60.0,
    max_age=timedelta(hours=24),
    max_attempts=15,
    base_backoff=5.0,
    max_backoff=1800.0,
)


class MailPoster:
    def __init__(
        self,
        server: MailServer,
        sender: str,
        address: str,
        policy: WebhookPolicy = MAIL_POLICY,
        *,
        files: TelegramFiles | None = None,
    ) -> None:
        self.server = server
        self.files = files
        self.sender = sender
        self.address = address
        self.domain = address.rpartition("@")[2] or "localhost"
        self.policy = policy
        self.sent_count = 0

    async def send(
        self, call: OutboundCall, params: dict[str, Any]
    ) -> tuple[Outcome, dict[str, Any]]:
        """One attempt at ``call`` with its resolved ``params``; returns the outcome and what
        to record: the mail's ``message_id`` and, when the file from the topic could not be
        attached (Telegram would not give it), ``missing_file`` (its media kind)."""
        thread = [str(i) for i in params.get("thread") or []]
        attachments, result = await self._attachments(params.get("attach"))
        mail, message_id = compose_mail(params, self.sender, self.domain, thread, attachments)
        result["message_id"] = message_id
        server = self.server
        try:
            await aiosmtplib.send(
                mail,
                sender=self.address,
                hostname=server.host,
                port=server.port,
                username=server.user,
                password=server.password,
                use_tls=server.tls,
                start_tls=False if server.tls else None,  # STARTTLS when offered
                timeout=self.policy.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            error = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            return self._answered(call, min(codes, default=550), error), result
        except aiosmtplib.SMTPResponseException as exc:
            return self._answered(call, exc.code, exc.message), result
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            return self.policy.after_transient(call, error, None), result
        self.sent_count += 1
        return Outcome(status=250), result

    async def _attachments(
        self, attach: dict[str, str] | None
    ) -> tuple[list[Attachment], dict[str, Any]]:
        """The file from the topic, fetched through the Bot API (kept on disk for retries)."""
        if not attach:
            return [], {}
        kind = attach["kind"]
        if self.files is None:
            return [], {"missing_file": kind}
        try:
            cached = await self.files.get(attach["file_id"])
        except FileUnavailable as exc:
            log.warning("a reply's file could not be attached", reason=str(exc))
            return [], {"missing_file": kind}
        content = await asyncio.to_thread(cached.path.read_bytes)
        name = f"{kind}{cached.path.suffix}"
        return [Attachment(name, content, cached.content_type)], {}

    def _answered(self, call: OutboundCall, code: int, message: str) -> Outcome:
        error = f"SMTP {code} from {self.server.host}: {message}"[:500]
        if 400 <= code < 500:
            return self.policy.after_transient(call, error, None, code)
        return Outcome(error=error, give_up=OutboxStatus.FAILED, status=code)
