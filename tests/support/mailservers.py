"""Real mail servers for the email tests: Dovecot (IMAP) as the support mailbox, started as a
process of its own with a throwaway configuration, and aiosmtpd (SMTP) receiving the desk's
mails in the test's event loop."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aioimaplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.runtime.mail_intake import close_mailbox
from tests.support.net import free_port

USER, PASSWORD = "desk", "mailbox-secret"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None
    )


@dataclass(frozen=True)
class Mailbox:
    """A running Dovecot with one user and an empty INBOX."""

    port: int

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    @asynccontextmanager
    async def client(self) -> AsyncIterator[aioimaplib.IMAP4]:
        """A mail client of our own on the mailbox (to deliver mail, to look at flags)."""
        client = aioimaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        await client.wait_hello_from_server()
        assert (await client.login(USER, PASSWORD)).result == "OK"
        assert (await client.select("INBOX")).result == "OK"
        try:
            yield client
        finally:
            await close_mailbox(client)

    async def deliver(self, raw: bytes) -> None:
        """A mail arrives in the INBOX, unseen."""
        async with self.client() as client:
            assert (await client.append(raw, mailbox="INBOX")).result == "OK"

    async def unseen(self) -> int:
        async with self.client() as client:
            found = await client.uid_search("UNSEEN")
        return len(bytes(found.lines[0]).split())

    async def forget_seen(self) -> None:
        """Take the ``\\Seen`` flag off every mail (as if the desk had died before setting it)."""
        async with self.client() as client:
            assert (await client.uid("store", "1:*", "-FLAGS.SILENT (\\Seen)")).result == "OK"


_CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%n
}}
mail_location = maildir:{mail}/%n/Maildir
# IDLE tells of new mail within a second even where inotify is not available.
mailbox_idle_check_interval = 1 secs
{capability}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@contextmanager
def dovecot(*, idle: bool = True) -> Iterator[Mailbox]:
    """Dovecot in the foreground (``dovecot -F``) on a free port, stopped afterwards; the
    test is skipped when Dovecot is not installed (``.ci/run`` installs it). Without
    ``idle`` it offers no IDLE (like some servers), so its clients must poll."""
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    # Dovecot's own processes (auth, mail) run as other users than the test: its files live
    # in a directory they can reach (pytest's tmp_path is private to its user).
    base = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    base.chmod(0o755)
    mail = base / "mail"
    mail.mkdir()
    if os.geteuid() == 0:  # Dovecot refuses uid 0 for mail: it belongs to nobody
        owner = pwd.getpwnam("nobody")
        os.chown(mail, owner.pw_uid, owner.pw_gid)
        uid, gid, users = owner.pw_uid, owner.pw_gid, ""
    else:  # Dovecot as an ordinary user: every process of it runs as that user
        me = pwd.getpwuid(os.getuid()).pw_name
        uid, gid = os.getuid(), os.getgid()
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            base=base,
            mail=mail,
            uid=uid,
            gid=gid,
            users=users,
            port=port,
            capability="" if idle else "imap_capability = IMAP4rev1 LITERAL+ UIDPLUS",
        )
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_port(port, process, base / "dovecot.log")
        yield Mailbox(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"dovecot exited: {err} {text}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening in 15 s")


@dataclass
class Outbox:
    """What the SMTP server received; ``refuse``: an answer to every RCPT (e.g. a 550)."""

    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse is not None:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.arrived.set()
        return "250 Message accepted"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Outbox, int]]:
    """aiosmtpd on a free port of 127.0.0.1, in this event loop."""
    outbox = Outbox()
    port = free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(outbox, hostname="smtp.test", enable_SMTPUTF8=True),
        "127.0.0.1",
        port,
    )
    try:
        yield outbox, port
    finally:
        server.close()
        await server.wait_closed()
