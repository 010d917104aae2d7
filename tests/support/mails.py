"""Mails a customer writes to the desk, as the tests of the email channel build them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

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
