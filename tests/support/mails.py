"""Mails a customer writes to the desk, as the tests of the email channel build them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

DESK_ADDRESS = "support@desk.test"
ANN = "ann@example.com"


def customer_mail(
    message_id: str,
    subject: str,
    body: str,
    *,
    sender: str = f"Ann Lee <{ANN}>",
    in_reply_to: str | None = None,
    references: str | None = None,
    **headers: str,
) -> bytes:
    """A plain-text mail to the desk (``headers``: more of them, ``Auto_Submitted`` for
    ``Auto-Submitted``)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = DESK_ADDRESS
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail.as_bytes()


def email_settings(smtp_port: int) -> dict[str, Any]:
    """``make_desk`` settings that switch the email channel on: mails go out to the test's SMTP
    server on ``smtp_port``; the IMAP mailbox is never connected to (mails come in through the
    intake's entry point)."""
    return {
        "email_imap_url": "imap://desk:secret@127.0.0.1:9/INBOX",
        "email_smtp_url": f"smtp://127.0.0.1:{smtp_port}",
        "email_from": f"Support <{DESK_ADDRESS}>",
    }
