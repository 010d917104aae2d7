"""The sandbox page and its small JSON API.

People act through the emulator's own ``user_sends_*`` / ``user_presses`` functions, the same
path the tests use, so the bot receives exactly the updates Telegram would send.

- ``GET  /``                               the page (static HTML, CSS and vanilla JS)
- ``GET  /sandbox/api/state?since=N&wait=S`` the world, once ``revision`` passes ``N``
  (long poll, at most ``S`` seconds)
- ``POST /sandbox/api/send``               ``{user_id, chat_id, thread_id?, text, reply_to?}``
- ``POST /sandbox/api/upload``             multipart: ``user_id, chat_id, thread_id?, caption?,
  file`` (an image becomes a photo, anything else a document)
- ``POST /sandbox/api/press``              ``{user_id, chat_id, message_id, data}``
- ``GET  /sandbox/api/file/{file_id}``     a file's bytes (images inline, others as downloads)
- ``POST /sandbox/api/mail``               ``{address, subject, text, answers?}``: a pretend
  customer mails the desk (``answers``: the id of the desk's mail it replies to)
- ``GET  /site``                            a pretend company site with the chat widget on it
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.mailbox import MailRefused, PretendMailbox
from bot.sandbox.view import Persona, file_mime, world_view

STATIC_DIR = Path(str(files("bot.sandbox") / "static"))
MAX_UPLOAD = 20 * 1024 * 1024  # what a bot may download from Telegram
MAX_WAIT = 25.0
MAX_TEXT = 4096


class BadInput(Exception):
    """The page asked for something no person could do; answered with 400 and the reason."""


@dataclass
class Sandbox:
    """The emulated world the page acts in: the agents' group and the people one can play."""

    emulator: BotApiEmulator
    group: dict[str, Any]
    people: list[Persona] = field(default_factory=list)
    #: The chat widget's script, served by the bot's API server (None: no widget).
    widget_script: str | None = None
    #: The pretend customers' mailboxes and the desk's mail servers' stand-ins.
    mailbox: PretendMailbox = field(default_factory=PretendMailbox)

    @property
    def group_id(self) -> int:
        return int(self.group["id"])

    def person(self, value: Any) -> Persona:
        for persona in self.people:
            if str(persona.id) == str(value):
                return persona
        raise BadInput(f"unknown person {value!r}")

    def where(self, persona: Persona, chat_id: Any, thread_id: Any) -> tuple[int, int | None]:
        """Where ``persona`` may write: their private chat with the bot, or (agents) the group."""
        chat = _int(chat_id, "chat_id")
        if chat == persona.id:
            return chat, None
        if chat != self.group_id:
            raise BadInput(f"{persona.name} cannot write in chat {chat}")
        if persona.role == "customer":
            raise BadInput(f"{persona.name} is a customer, not a member of the agents' group")
        thread = None if thread_id in (None, "", "null") else _int(thread_id, "thread_id")
        return chat, thread

    def state(self) -> dict[str, Any]:
        return {
            **world_view(self.emulator, self.group, self.people),
            "mail": self.mailbox.view(),
        }


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name}: expected a number, got {value!r}") from None


@contextlib.contextmanager
def _gone_as_bad_input() -> Iterator[None]:
    """The emulator refuses with ValueError what no longer exists: a topic, a message to reply
    to, a button edited away since the page drew it."""
    try:
        yield
    except ValueError as exc:
        raise BadInput(str(exc)) from None


SANDBOX_KEY = web.AppKey("sandbox", Sandbox)


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise BadInput("expected a JSON object") from None
    if not isinstance(body, dict):
        raise BadInput("expected a JSON object")
    return body


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@web.middleware
async def _local_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """The page has no login, so only this machine's own page may use it: a Host that is not
    local means DNS rebinding, and a POST from another Origin is some web site the person has
    open in the same browser."""
    if request.url.host not in LOCAL_HOSTS:
        raise web.HTTPForbidden(text="the sandbox answers on 127.0.0.1 only")
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None and origin != f"http://{request.host}":
        raise web.HTTPForbidden(text="the sandbox accepts actions from its own page only")
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except BadInput as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    return response


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})


async def state(request: web.Request) -> web.Response:
    """The world as the page draws it; waits while nothing changed since ``since``."""
    sandbox = _sandbox(request)
    since = _int(request.query.get("since", "-1"), "since")
    try:
        wait = min(max(float(request.query.get("wait") or 0), 0.0), MAX_WAIT)
    except ValueError:
        raise BadInput("wait: expected seconds") from None
    await sandbox.emulator.wait_changed(since, wait)
    return web.json_response(sandbox.state(), headers={"Cache-Control": "no-store"})


async def send(request: web.Request) -> web.Response:
    """A person writes a text message (a ``/command`` too) in a chat they are in."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    persona = sandbox.person(body.get("user_id"))
    chat_id, thread_id = sandbox.where(persona, body.get("chat_id"), body.get("thread_id"))
    text = str(body.get("text") or "").strip()
    if not text:
        raise BadInput("the message is empty")
    if len(text) > MAX_TEXT:
        raise BadInput(f"a message holds at most {MAX_TEXT} characters")
    reply_to = body.get("reply_to")
    reply_id = None if reply_to in (None, "") else _int(reply_to, "reply_to")
    with _gone_as_bad_input():
        message = sandbox.emulator.user_sends_text(
            persona.user, text, chat_id=chat_id, thread_id=thread_id, reply_to=reply_id
        )
    return web.json_response({"ok": True, "message_id": message["message_id"]})


async def upload(request: web.Request) -> web.Response:
    """A person sends a file: an image as a photo, anything else as a document."""
    sandbox = _sandbox(request)
    fields: dict[str, str] = {}
    content: bytes | None = None
    filename = "file"
    content_type = "application/octet-stream"
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name == "file":
            filename = part.filename or filename
            content_type = part.headers.get("Content-Type", content_type)
            content = await part.read(decode=False)
            if len(content) > MAX_UPLOAD:
                raise BadInput("files up to 20 MB")
        else:
            fields[part.name] = await part.text()
    if not content:
        raise BadInput("no file, or an empty one")
    persona = sandbox.person(fields.get("user_id"))
    chat_id, thread_id = sandbox.where(persona, fields.get("chat_id"), fields.get("thread_id"))
    caption = fields.get("caption", "").strip() or None
    kind = "photo" if content_type in ("image/jpeg", "image/png") else "document"
    meta: dict[str, Any] = {}
    if kind == "document":
        meta = {"file_name": Path(filename).name[:200], "mime_type": content_type}
    with _gone_as_bad_input():
        message = sandbox.emulator.user_sends_media(
            persona.user,
            kind,
            caption=caption,
            chat_id=chat_id,
            thread_id=thread_id,
            content=content,
            **meta,
        )
    return web.json_response({"ok": True, "message_id": message["message_id"], "kind": kind})


async def press(request: web.Request) -> web.Response:
    """A person presses an inline button of one of the bot's messages."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    persona = sandbox.person(body.get("user_id"))
    chat_id, _ = sandbox.where(persona, body.get("chat_id"), None)
    message_id = _int(body.get("message_id"), "message_id")
    with _gone_as_bad_input():
        query = sandbox.emulator.user_presses(
            persona.user, chat_id, message_id, str(body.get("data") or "")
        )
    return web.json_response({"ok": True, "query_id": query["id"]})


async def mail(request: web.Request) -> web.Response:
    """A pretend customer writes a mail to the desk (or answers one of its mails)."""
    mailbox = _sandbox(request).mailbox
    body = await _json_body(request)
    answers = body.get("answers")
    try:
        written = await mailbox.write(
            str(body.get("address") or ""),
            str(body.get("subject") or ""),
            str(body.get("text") or ""),
            None if answers in (None, "") else _int(answers, "answers"),
        )
    except MailRefused as exc:
        raise BadInput(str(exc)) from None
    return web.json_response({"ok": True, "mail": written.view()})


async def file(request: web.Request) -> web.Response:
    """A stored file: images shown inline, everything else only as a download."""
    emulator = _sandbox(request).emulator
    file_id = request.match_info["file_id"]
    if file_id not in emulator.files:
        raise web.HTTPNotFound
    record = emulator.files[file_id]
    mime = file_mime(emulator, file_id)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if not mime.startswith("image/") or mime == "image/svg+xml":
        name = str(record.meta.get("file_name") or Path(record.file_path).name)
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        mime = "application/octet-stream"
    return web.Response(body=record.content, content_type=mime, headers=headers)


SITE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<link rel="icon" href="data:,">
<style>body {{ font: 15px/1.5 system-ui, sans-serif; margin: 16px; color: #24292f; }}</style>
</head><body>
<h2>Example shop</h2>
<p>A company's own web site. The chat widget below is what its visitors use: what they write
becomes a ticket in the agents' group, and the agents' answers come back here.</p>
{widget}
</body></html>
"""


async def site(request: web.Request) -> web.Response:
    """A pretend company site with the chat widget embedded, as a company would embed it."""
    script = _sandbox(request).widget_script
    widget = (
        f'<script src="{escape(script)}" data-open="true" data-title="Example shop"></script>'
        if script
        else "<p>The chat widget is off.</p>"
    )
    return web.Response(
        text=SITE_PAGE.format(widget=widget),
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def make_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(
        client_max_size=MAX_UPLOAD + 1024 * 1024, middlewares=[_local_only, _errors]
    )
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.router.add_get("/sandbox/api/state", state)
    app.router.add_post("/sandbox/api/send", send)
    app.router.add_post("/sandbox/api/upload", upload)
    app.router.add_post("/sandbox/api/press", press)
    app.router.add_post("/sandbox/api/mail", mail)
    app.router.add_get("/sandbox/api/file/{file_id}", file)
    app.router.add_get("/site", site)
    return app
