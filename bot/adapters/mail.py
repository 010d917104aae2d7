"""Mail as bytes: an incoming mail made readable, and the desk's own mails composed.

Reading: the text part is preferred, an HTML-only mail becomes text (``html2text``), and the
quoted history and signature of a reply are taken off (``mail-parser-reply``) unless nothing
would be left. Attachments are named at the end of the text (they are not stored yet).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

import html2text
from mailparser_reply import EmailReplyParser

from models.mail import InboundMail, MailFile, headers_of, references

#: Languages whose reply headers ("On … wrote:") and signatures the reply parser knows.
REPLY_LANGUAGES = ["en", "ru", "de", "fr", "es"]


def _html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # the reader's client wraps; never cut a link in two
    converter.ignore_emphasis = True
    converter.ignore_images = True
    text = converter.handle(html)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _without_quotes(text: str) -> str:
    """The newest part of a reply: quoted history and signature taken off."""
    replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text).replies
    latest = replies[0].body if replies else ""
    return (latest or "").strip() or text.strip()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # a charset Python does not know, or lies about
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        return _html_to_text(content)
    return content.replace("\r\n", "\n")


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """The mail's attached files in order, with names (``file-2`` when it gives none)."""
    found = []
    for part, attached in enumerate(message.iter_attachments(), start=1):
        assert isinstance(attached, EmailMessage)
        content = attached.get_payload(decode=True)
        data = content if isinstance(content, bytes) else b""
        found.append((attached.get_filename() or f"file-{part}", data))
    return found


def read_mail(raw: bytes, received_at: datetime) -> InboundMail:
    """An incoming mail as the use cases see it. ``sent_at`` is when the desk received it:
    a ``Date`` header is the sender's clock, and may be anything. Its files are named at the
    end of its text."""
    message = _parse(raw)
    text = _without_quotes(_body(message))
    files = tuple(
        MailFile(part, name, len(data))
        for part, (name, data) in enumerate(_attachments(message), start=1)
    )
    if files:
        text = "\n\n".join(p for p in (text, "\n".join(f.line for f in files)) if p)
    return InboundMail(
        headers=headers_of(message, raw), text=text, sent_at=received_at, files=files
    )


def attachment(raw: bytes, part: int) -> tuple[str, bytes]:
    """File ``part`` (from 1) of a stored mail: its name and bytes (``KeyError`` if none)."""
    files = _attachments(_parse(raw))
    if not 1 <= part <= len(files):
        raise KeyError(f"the mail has no file {part}")
    return files[part - 1]


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"


def compose_mail(
    params: dict[str, Any],
    sender: str,
    domain: str,
    thread: list[str],
    attachments: Sequence[Attachment] = (),
) -> tuple[EmailMessage, str]:
    """The desk's mail for an outbox call (see :func:`models.mail.mail_call`) with its
    ``thread`` of message ids; returns it with its message id (no brackets)."""
    message_id = f"{params['local_id']}@{domain}"
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr((str(params.get("name") or ""), str(params["to"])))
    mail["Subject"] = str(params.get("subject") or "")
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message_id}>"
    if thread:
        mail["In-Reply-To"] = f"<{thread[-1]}>"
        mail["References"] = " ".join(f"<{i}>" for i in references(thread))
    if params.get("auto"):
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: no autoresponder answers it
    html = re.sub(r"\r?\n", "<br>\n", str(params["html"]))
    mail.set_content(_html_to_text(html) + "\n")
    mail.add_alternative(f"<html><body>{html}</body></html>\n", subtype="html")
    for file in attachments:
        maintype, _, subtype = file.content_type.partition("/")
        mail.add_attachment(
            file.content, maintype=maintype, subtype=subtype or "octet-stream", filename=file.name
        )
    return mail, message_id
