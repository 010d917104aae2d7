"""Mail as bytes: an incoming mail made readable, the desk's own mail composed."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from bot.adapters.mail import attachment, compose_mail, read_mail
from models.mail import REFERENCES_MAX

NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def incoming(body: str, subtype: str = "plain") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Ann <ann@example.com>"
    mail["Subject"] = "Re: [#42] Refund"
    mail["Message-ID"] = "<m2@example.com>"
    mail.set_content(body, subtype)
    return mail


class TestReading:
    def test_html_becomes_text(self) -> None:
        mail = incoming(
            "<div>Hello,<br>the <b>app</b> crashes on <a href='x'>login</a></div>", "html"
        )
        assert read_mail(mail.as_bytes(), NOW).text == "Hello,\nthe app crashes on [login](x)"

    def test_quoted_history_and_signature_are_taken_off(self) -> None:
        body = (
            "It works now, thank you!\n\n"
            "--\nAnn Lee\nACME Corp\n\n"
            "On Mon, 7 Dec 2026 at 16:00, Support <support@desk.test> wrote:\n"
            "> Please try again.\n"
        )
        assert read_mail(incoming(body).as_bytes(), NOW).text == "It works now, thank you!"

    def test_attachments_are_named_with_their_sizes_and_kept_in_the_mail(self) -> None:
        mail = incoming("See the screenshot")
        mail.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="error.png")
        mail.add_attachment(b"x" * 3_000_000, maintype="application", subtype="zip")
        read = read_mail(mail.as_bytes(), NOW)
        assert read.text == "See the screenshot\n\n📎 error.png (1 KB)\n📎 file-2 (2.9 MB)"
        assert [(f.part, f.name, f.size) for f in read.files] == [
            (1, "error.png", 4),
            (2, "file-2", 3_000_000),
        ]
        assert attachment(mail.as_bytes(), 1) == ("error.png", b"\x89PNG")

    def test_a_charset_python_does_not_know_is_read_as_utf8(self) -> None:
        raw = (
            b"From: ann@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=x-unknown\r\n\r\nPr\xc3\xbcfung \xff\r\n"
        )
        assert read_mail(raw, NOW).text == "Prüfung \ufffd"

    def test_a_mail_is_dated_when_the_desk_got_it(self) -> None:
        mail = incoming("hi")
        mail["Date"] = "Thu, 01 Jan 1970 00:00:00 +0000"  # anybody's clock
        read = read_mail(mail.as_bytes(), NOW)
        assert read.sent_at == NOW
        assert read.headers.message_id == "m2@example.com"


class TestComposing:
    PARAMS = {  # noqa: RUF012 (read only)
        "to": "ann@example.com",
        "name": "Ann Lee",
        "subject": "Re: [#42] Refund",
        "html": "Refund <b>sent</b>\n\n— Bob",
        "auto": False,
        "local_id": "abc123",
    }

    def parse(self, mail: EmailMessage) -> EmailMessage:
        parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def test_a_reply_is_threaded_with_text_and_html(self) -> None:
        thread = ["m1@example.com", "d1@desk.test", "m2@example.com"]
        mail, message_id = compose_mail(self.PARAMS, "Support <s@desk.test>", "desk.test", thread)
        mail = self.parse(mail)
        assert message_id == "abc123@desk.test"
        assert mail["Message-ID"] == "<abc123@desk.test>"
        assert mail["In-Reply-To"] == "<m2@example.com>"
        assert mail["References"] == "<m1@example.com> <d1@desk.test> <m2@example.com>"
        assert mail["To"] == "Ann Lee <ann@example.com>"
        assert mail["Auto-Submitted"] is None
        plain = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        assert plain is not None
        assert html is not None
        assert plain.get_content() == "Refund sent\n\n— Bob\n"
        assert "Refund <b>sent</b><br>" in html.get_content()

    def test_a_notice_is_marked_automatic_and_long_threads_are_cut(self) -> None:
        thread = [f"m{i}@example.com" for i in range(40)]
        params = self.PARAMS | {"auto": True}
        mail, _ = compose_mail(params, "s@desk.test", "desk.test", thread)
        mail = self.parse(mail)
        assert mail["Auto-Submitted"] == "auto-replied"
        refs = str(mail["References"]).split()
        assert len(refs) == REFERENCES_MAX
        assert refs[0] == "<m0@example.com>"
        assert refs[-1] == "<m39@example.com>"
