"""The website chat widget's endpoints (``/widget/v1``) and its two static files, served by the
REST API's server when ``HELPDESK_WIDGET_ORIGINS`` is set.

* ``POST /widget/v1/visitors`` ``{"name"?, "email"?, "language"?}``: a new visitor and their
  token (shown once; only its SHA-256 is stored). Limited per client address.
* ``POST /widget/v1/messages`` ``{"text", "client_id"?}``: the visitor writes (a ticket opens
  or the message joins theirs). The same ``client_id`` again stores nothing twice.
* ``GET /widget/v1/messages?after=<seq>&wait=<s>``: the visitor's conversation after ``seq``;
  with ``wait``, the request is held until there is something (at most 25 s: a long poll).
* ``GET /widget/v1/tickets/{number}``: one of the visitor's own tickets (anyone else's: 404).

Every request but the first carries ``Authorization: Bearer <token>``; a token reads its own
visitor's conversation and nothing else. Browsers may call these from the configured origins
only (CORS); other origins get 403. Errors are problem+json, as in the REST API. Tokens are
never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from bot.api import schemas as s
from bot.api.pipeline import MAX_BODY, parse_body, problems
from bot.api.problems import ApiProblem
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.runtime.widget_poster import WidgetHub
from bot.services import widget as use
from bot.services.conversation import DeskConfig
from bot.services.ports import Clock, Presenter, SystemClock, UowFactory
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from models.widget import Visitor, WidgetMessage

PREFIX = "/widget/v1"
STATIC_DIR = Path(__file__).parent / "static"
#: The longest a read waits for news (seconds): under the usual 30-60 s proxy time-outs.
MAX_WAIT = 25
#: New visitors per minute from one client address.
STARTS_PER_MIN = 10
#: Reads per minute per visitor (a long poll is one every 25 s; reconnects need more).
READS_PER_MIN = 120


@dataclass
class WidgetDeps:
    """What the widget needs from the composition root."""

    uow_factory: UowFactory
    presenter: Presenter
    triage: Triage
    config: DeskConfig
    origins: list[str]
    hub: WidgetHub
    #: Messages per minute one visitor may send.
    rate_per_min: int = 20
    quota: Coordinator = field(default_factory=LocalCoordinator)
    clock: Clock = field(default_factory=SystemClock)
    solved: SimilarTickets | None = None
    #: Called after a visitor's message queued calls (the sender's wake-up).
    wake: Callable[[], None] = lambda: None


class StartBody(s.Body):
    name: str | None = None
    email: str | None = None
    language: str | None = None


class MessageBody(s.Body):
    text: str
    client_id: str | None = None


class MessageOut(BaseModel):
    seq: int
    sender: str  # "visitor" or "desk"
    text: str
    at: str
    ticket: int | None = None


class Started(BaseModel):
    token: str
    visitor: int
    name: str | None = None


class Posted(BaseModel):
    message: MessageOut
    ticket: int | None
    duplicate: bool


class Conversation(BaseModel):
    messages: list[MessageOut]
    #: The ``after`` of the next read.
    cursor: int


class TicketOut(BaseModel):
    number: int
    status: str


def _out(message: WidgetMessage) -> MessageOut:
    return MessageOut(
        seq=message.seq,
        sender=str(message.direction),
        text=message.text,
        at=message.created_at.isoformat().replace("+00:00", "Z"),
        ticket=message.ticket_number,
    )


def _json(body: BaseModel, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=body.model_dump_json(), content_type="application/json"
    )


def _int_query(request: web.Request, name: str, high: int) -> int:
    raw = request.query.get(name, "0")
    if not raw.isdigit() or int(raw) > high:
        raise ApiProblem(
            "validation",
            f"{name}: a whole number from 0 to {high}",
            errors=[{"field": name, "message": f"a whole number from 0 to {high}"}],
        )
    return int(raw)


class Widget:
    def __init__(self, deps: WidgetDeps) -> None:
        self.deps = deps

    async def _admit(self, key: str, calls: int, what: str) -> None:
        wait = await self.deps.quota.admit(key, calls, 60)
        if wait:
            raise ApiProblem(
                "rate-limited",
                f"at most {calls} {what} a minute; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    async def visitor(self, request: web.Request) -> Visitor:
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem("unknown-visitor", "send Authorization: Bearer <visitor token>")
        async with self.deps.uow_factory(readonly=True) as uow:
            visitor = await use.authenticate(uow, token.strip())
        if visitor is None:
            raise ApiProblem("unknown-visitor", "unknown visitor token: start again")
        return visitor

    async def start(self, request: web.Request) -> web.Response:
        await self._admit(f"widget:start:{request.remote}", STARTS_PER_MIN, "new visitors")
        body, _raw = await parse_body(StartBody, request)
        assert isinstance(body, StartBody)
        async with self.deps.uow_factory() as uow:
            started = await use.start(
                uow, body.name, body.email, body.language, self.deps.config, self.deps.clock.now()
            )
        out = Started(token=started.token, visitor=started.visitor.id, name=started.visitor.name)
        return _json(out, 201)

    async def post(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        await self._admit(f"widget:post:{visitor.id}", self.deps.rate_per_min, "messages")
        body, _raw = await parse_body(MessageBody, request)
        assert isinstance(body, MessageBody)
        d = self.deps
        try:
            async with d.uow_factory() as uow:
                posted = await use.post(
                    uow,
                    d.presenter,
                    d.triage,
                    d.config,
                    visitor,
                    body.text,
                    body.client_id,
                    d.clock.now(),
                    solved=d.solved,
                )
        except IntegrityError:  # the same client id sent twice at once: the other one won
            raise ApiProblem("conflict", "this message is being stored; send it again") from None
        d.wake()
        d.hub.wake(visitor.customer_id)
        out = Posted(
            message=_out(posted.message), ticket=posted.ticket_number, duplicate=posted.duplicate
        )
        return _json(out, 200 if posted.duplicate else 201)

    async def read(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        after = _int_query(request, "after", 2**31 - 1)
        wait = _int_query(request, "wait", MAX_WAIT)
        unknown = set(request.query) - {"after", "wait"}
        if unknown:
            raise ApiProblem("validation", "unknown parameters: " + ", ".join(sorted(unknown)))
        await self._admit(f"widget:read:{visitor.id}", READS_PER_MIN, "reads")
        now = self.deps.clock.now()
        if visitor.seen_long_ago(now):  # the widget is open: replies need no mail
            async with self.deps.uow_factory() as uow:
                await use.seen(uow, visitor, now)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            # Listen before reading: a text stored in between still wakes this request.
            news = self.deps.hub.listen(visitor.customer_id)
            async with self.deps.uow_factory(readonly=True) as uow:
                messages = await use.conversation(uow, visitor, after)
            left = deadline - loop.time()
            if messages or left <= 0 or self.deps.hub.closed:
                break
            await self.deps.hub.wait(news, left)
        cursor = messages[-1].seq if messages else after
        return _json(Conversation(messages=[_out(m) for m in messages], cursor=cursor))

    async def ticket(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        await self._admit(f"widget:read:{visitor.id}", READS_PER_MIN, "reads")
        number = int(request.match_info["number"])
        async with self.deps.uow_factory(readonly=True) as uow:
            ticket = await use.visitor_ticket(uow, visitor, number)
        return _json(TicketOut(number=ticket.number or number, status=str(ticket.status)))


def _cors(origins: list[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Browsers on ``origins`` may call the endpoints (the token in a header, no cookies);
    a request from any other page is refused before it does anything."""
    allowed_origins = frozenset(origins)

    @web.middleware
    async def cors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in allowed_origins:
            detail = f"{origin[:100]} is not among HELPDESK_WIDGET_ORIGINS"
            return ApiProblem("forbidden-origin", detail).response()
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
        if origin is not None:
            response.headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type",
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                }
            )
        return response

    return cors


def make_widget_app(deps: WidgetDeps) -> web.Application:
    """The sub-application mounted at ``/widget/``."""
    widget = Widget(deps)
    app = web.Application(middlewares=[_cors(deps.origins), problems], client_max_size=MAX_BODY)
    app.router.add_post("/v1/visitors", widget.start)
    app.router.add_get("/v1/messages", widget.read)
    app.router.add_post("/v1/messages", widget.post)
    app.router.add_get(r"/v1/tickets/{number:\d{1,18}}", widget.ticket)
    # OPTIONS (a CORS preflight) is answered by the middleware, before any route.
    app.router.add_static("/", STATIC_DIR, append_version=False)
    return app
