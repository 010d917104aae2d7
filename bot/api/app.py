"""The REST API (``/api/v1``): aiohttp, served by every bot process on ``HELPDESK_API_PORT``.

One request goes: route -> key (``Authorization: Bearer``) -> the key's rate limit -> scope ->
parameters and body validated by their pydantic models -> ``Idempotency-Key`` (POST) -> the use
case, in one unit of work -> JSON. Every refusal on the way is a problem+json with a stable
``type`` (:mod:`bot.api.problems`). The route table below is also what the OpenAPI document is
generated from (:mod:`bot.api.openapi`), so the document cannot describe another API.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from bot.adapters.files import FileUnavailable, TelegramFiles
from bot.api import schemas as s
from bot.api import views
from bot.api.problems import ApiProblem
from bot.logs import get_logger
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.services import api as use
from bot.services.apikeys import audit_by
from bot.services.ports import Clock, Presenter, SystemClock, UowFactory
from models import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    TicketClosed,
    TicketMerged,
)
from models import apikeys as ak
from models import webhooks as wh
from storage import AbstractUnitOfWork

log = get_logger(__name__)

PREFIX = "/api/v1"
IDEMPOTENCY_WINDOW = use.IDEMPOTENCY_WINDOW
#: ``last_used_at`` is written at most this often per key and worker (a write per request
#: would queue every read behind SQLite's write lock).
TOUCH_EVERY_S = 60.0
MAX_BODY = 64 * 1024


@dataclass
class ApiDeps:
    """What the API needs from the composition root."""

    uow_factory: UowFactory
    presenter: Presenter
    zone: str = "UTC"
    rate_per_min: int = 120
    clock: Clock = field(default_factory=SystemClock)
    #: Called after a write that queued Telegram calls (the sender's wake-up).
    wake: Callable[[], None] = lambda: None
    #: Files of messages (fetched through the Bot API); None: the API serves no files.
    files: TelegramFiles | None = None
    #: Counts requests per key: in memory for one worker, in Redis for several (the limit is
    #: then the desk's, not each worker's).
    quota: Coordinator = field(default_factory=LocalCoordinator)


@dataclass
class Call:
    """One request as the handlers see it: validated, authenticated."""

    request: web.Request
    key: ak.ApiKey
    uow: AbstractUnitOfWork
    deps: ApiDeps
    query: Any = None
    body: Any = None

    @property
    def number(self) -> int:
        return int(self.request.match_info["number"])


@dataclass
class Result:
    body: BaseModel
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Awaitable[Result | web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    scope: str | None
    summary: str
    #: None: the answer is a file (any content type).
    response: type[BaseModel] | None
    query: type[s.Request] | None = None
    body: type[s.Body] | None = None
    status: int = 200
    #: Changes the desk: a read-write unit of work; POSTs accept an Idempotency-Key.
    writes: bool = False
    #: Answers with an ETag / accepts If-Match.
    versioned: bool = False
    errors: tuple[int, ...] = ()


# -- handlers ----------------------------------------------------------------------------------


async def _ticket_result(call: Call, ticket: Any, status: int = 200) -> Result:
    rel = await use.related(call.uow, [ticket], call.deps.zone, call.deps.clock.now())
    return Result(views.ticket(ticket, rel), status, {"ETag": use.etag(ticket)})


async def list_tickets(call: Call) -> Result:
    q: s.TicketListQuery = call.query
    wanted = use.TicketFilter(
        statuses=tuple(q.status or ()),
        team=q.team,
        category=q.category,
        customer_telegram_id=q.customer,
        assignee_id=q.assignee,
        unassigned=q.unassigned,
        priority=q.priority,
        not_sure=q.not_sure,
        breached=q.breached,
        created_since=q.created_since,
        updated_since=q.updated_since,
    )
    tickets = await use.list_tickets(call.uow, wanted, q.cursor, q.limit)
    rel = await use.related(call.uow, tickets, call.deps.zone, call.deps.clock.now())
    more = len(tickets) == q.limit
    return Result(
        s.TicketPage(
            items=[views.ticket(t, rel) for t in tickets],
            next_cursor=tickets[-1].id if more and tickets else None,
        )
    )


async def search_tickets(call: Call) -> Result:
    q: s.SearchQuery = call.query
    found, more = await use.search_tickets(call.uow, q.q, q.offset, q.limit)
    tickets = [t for t, _snippet in found]
    rel = await use.related(call.uow, tickets, call.deps.zone, call.deps.clock.now())
    return Result(
        s.SearchResults(
            items=[s.SearchHitOut(ticket=views.ticket(t, rel), snippet=sn) for t, sn in found],
            next_offset=q.offset + q.limit if more else None,
        )
    )


async def get_ticket(call: Call) -> Result:
    ticket = await use.ticket_by_number(call.uow, call.number)
    return await _ticket_result(call, ticket)


async def ticket_messages(call: Call) -> Result:
    ticket = await use.ticket_by_number(call.uow, call.number)
    messages = await call.uow.messages.for_ticket(ticket.id)  # type: ignore[arg-type]
    return Result(s.MessageList(items=[views.message(m) for m in messages]))


async def message_file(call: Call) -> web.StreamResponse:
    message = await call.uow.messages.get(int(call.request.match_info["id"]))
    if message is None or not message.file_id:
        raise NotFound("no such message with a file")
    if call.deps.files is None:
        raise ApiProblem("file-unavailable", "this desk serves no files")
    try:
        cached = await call.deps.files.get(message.file_id)
    except FileUnavailable as exc:
        kind = "file-too-large" if exc.too_large else "file-unavailable"
        raise ApiProblem(kind, str(exc)) from None
    return web.FileResponse(cached.path, headers={"Content-Type": cached.content_type})


async def ticket_events(call: Call) -> Result:
    ticket = await use.ticket_by_number(call.uow, call.number)
    events = await call.uow.events.for_ticket(ticket.id, limit=1000)  # type: ignore[arg-type]
    return Result(s.EventList(items=[views.event(e) for e in events]))


async def patch_ticket(call: Call) -> Result:
    body: s.TicketPatch = call.body
    given = body.model_fields_set
    change = use.TicketChange(
        status=body.status,
        priority=body.priority,
        team=body.team if "team" in given else use.UNCHANGED,
        assignee_id=body.assignee_id if "assignee_id" in given else use.UNCHANGED,
        category=body.category,
        add_tags=tuple(body.add_tags),
        remove_tags=tuple(body.remove_tags),
    )
    ticket = await use.change_ticket(
        call.uow,
        call.deps.presenter,
        call.key,
        call.number,
        change,
        call.request.headers.get("If-Match"),
        call.deps.clock.now(),
    )
    _audit(call, "ticket changed", ticket=ticket.number, **body.model_dump(exclude_unset=True))
    return await _ticket_result(call, ticket)


async def post_reply(call: Call) -> Result:
    body: s.ReplyRequest = call.body
    message = await use.reply(
        call.uow, call.deps.presenter, call.key, call.number, body.text, call.deps.clock.now()
    )
    _audit(call, "reply sent", ticket=call.number, message=message.id)
    return Result(views.message(message), 201)


async def post_note(call: Call) -> Result:
    body: s.NoteRequest = call.body
    message = await use.note(
        call.uow, call.deps.presenter, call.key, call.number, body.text, call.deps.clock.now()
    )
    _audit(call, "note added", ticket=call.number, message=message.id)
    return Result(views.message(message), 201)


async def post_ticket(call: Call) -> Result:
    body: s.NewTicketRequest = call.body
    new = use.NewTicket(
        customer_telegram_id=body.customer_telegram_id,
        text=body.text,
        subject=body.subject,
        priority=body.priority,
        team=body.team,
        category=body.category,
    )
    ticket = await use.open_ticket(
        call.uow, call.deps.presenter, call.key, new, call.deps.clock.now()
    )
    _audit(call, "ticket opened", ticket=ticket.number, customer=body.customer_telegram_id)
    return await _ticket_result(call, ticket, 201)


async def post_merge(call: Call) -> Result:
    body: s.MergeRequest = call.body
    target = await use.merge(
        call.uow,
        call.deps.presenter,
        call.key,
        call.number,
        body.into,
        call.request.headers.get("If-Match"),
        call.deps.clock.now(),
    )
    _audit(call, "tickets merged", ticket=call.number, into=target.number)
    return await _ticket_result(call, target)


async def find_customers(call: Call) -> Result:
    q: s.CustomerQuery = call.query
    if q.telegram_id is None and q.username is None:
        raise ApiProblem(
            "validation",
            "give telegram_id or username",
            errors=[{"field": "telegram_id", "message": "telegram_id or username is required"}],
        )
    found = (
        await call.uow.customers.by_telegram_id(q.telegram_id)
        if q.telegram_id is not None
        else await call.uow.customers.by_username(q.username or "")
    )
    return Result(s.CustomerList(items=[views.customer(found)] if found else []))


async def customer_tickets(call: Call) -> Result:
    telegram_id = int(call.request.match_info["telegram_id"])
    q: s.TicketListQuery = call.query
    if await call.uow.customers.by_telegram_id(telegram_id) is None:
        raise NotFound(f"customer {telegram_id} not found")
    call.query = q.model_copy(update={"customer": telegram_id})
    return await list_tickets(call)


async def list_agents(call: Call) -> Result:
    agents = await call.uow.agents.list(active_only=False)
    return Result(s.AgentList(items=[views.agent(a) for a in agents if a.id is not None]))


async def get_stats(call: Call) -> Result:
    q: s.StatsQuery = call.query
    report, _names = await use.stats(
        call.deps.uow_factory, q.period, q.team, call.deps.zone, call.deps.clock.now()
    )
    return Result(views.stats(report))


async def list_deliveries(call: Call) -> Result:
    q: s.EventsQuery = call.query
    found = await call.uow.webhooks.deliveries(before_id=q.cursor, limit=q.limit)
    items = [
        s.DeliveryOut(
            id=d.id,
            webhook_id=d.webhook_id,
            event=d.event,
            delivery=d.delivery,
            status=d.status,  # type: ignore[arg-type]
            attempts=d.attempts,
            created_at=d.created_at,
            sent_at=d.sent_at,
            last_error=d.last_error,
        )
        for d in found
    ]
    more = len(found) == q.limit
    return Result(s.DeliveryList(items=items, next_cursor=found[-1].id if more else None))


async def post_redeliver(call: Call) -> Result:
    outbox_id = int(call.request.match_info["id"])
    new_id = await use.redeliver(call.uow, outbox_id, call.deps.clock.now())
    _audit(call, "webhook event redelivered", delivery=outbox_id, new=new_id)
    return Result(s.Redelivered(id=new_id), 202)


async def webhook_events(call: Call) -> Result:
    return Result(s.WebhookEvents(items=list(wh.EVENT_TYPES)))


def _audit(call: Call, action: str, **details: object) -> None:
    audit_by(f"api:{call.key.name}", action, **details)


T = ak.TICKETS_READ
ROUTES: tuple[Route, ...] = (
    Route("GET", "/tickets", list_tickets, T, "List tickets, newest first", s.TicketPage,
          query=s.TicketListQuery, errors=(422,)),
    Route("POST", "/tickets", post_ticket, ak.TICKETS_WRITE,
          "Open a ticket for a known customer, who gets the first message from the desk",
          s.TicketOut, body=s.NewTicketRequest, status=201, writes=True, errors=(422,)),
    Route("GET", "/tickets/search", search_tickets, T,
          "Full-text search over subjects and messages, best first", s.SearchResults,
          query=s.SearchQuery, errors=(422,)),
    Route("GET", "/tickets/{number}", get_ticket, T, "Get a ticket (with its ETag)",
          s.TicketOut, versioned=True, errors=(404,)),
    Route("PATCH", "/tickets/{number}", patch_ticket, ak.TICKETS_WRITE,
          "Change status, priority, team or assignee (If-Match: the ETag)", s.TicketOut,
          body=s.TicketPatch, writes=True, versioned=True, errors=(404, 409, 412, 422)),
    Route("POST", "/tickets/{number}/merge", post_merge, ak.TICKETS_WRITE,
          "Merge into another ticket of the same customer; answers with that ticket",
          s.TicketOut, body=s.MergeRequest, writes=True, versioned=True,
          errors=(404, 409, 412, 422)),
    Route("GET", "/tickets/{number}/messages", ticket_messages, T,
          "The ticket's messages: customer's, replies, notes", s.MessageList, errors=(404,)),
    Route("GET", "/messages/{id}/file", message_file, T,
          "The file of a message (photo, document, voice…), fetched through Telegram",
          None, errors=(404, 422, 502)),
    Route("GET", "/tickets/{number}/events", ticket_events, T,
          "The ticket's history: who changed what, when", s.EventList, errors=(404,)),
    Route("POST", "/tickets/{number}/replies", post_reply, ak.MESSAGES_WRITE,
          "Reply to the customer (through the outbox, shown in the topic as via API)",
          s.MessageOut, body=s.ReplyRequest, status=201, writes=True,
          errors=(404, 409, 422)),
    Route("POST", "/tickets/{number}/notes", post_note, ak.MESSAGES_WRITE,
          "Add an internal note (the customer never sees it)", s.MessageOut,
          body=s.NoteRequest, status=201, writes=True, errors=(404, 409, 422)),
    Route("GET", "/customers", find_customers, ak.PEOPLE_READ,
          "Find a customer by Telegram id or username", s.CustomerList,
          query=s.CustomerQuery, errors=(422,)),
    Route("GET", "/customers/{telegram_id}/tickets", customer_tickets, ak.PEOPLE_READ,
          "A customer's tickets, newest first", s.TicketPage, query=s.TicketListQuery,
          errors=(404, 422)),
    Route("GET", "/agents", list_agents, ak.PEOPLE_READ, "Agents, their roles and away state",
          s.AgentList),
    Route("GET", "/stats", get_stats, ak.STATS_READ, "The figures of /stats for a period",
          s.StatsOut, query=s.StatsQuery, errors=(422,)),
    Route("GET", "/events", list_deliveries, T,
          "Outgoing webhook deliveries, newest first (kept for the retention period)",
          s.DeliveryList, query=s.EventsQuery, errors=(422,)),
    Route("POST", "/events/{id}/redeliver", post_redeliver, ak.TICKETS_WRITE,
          "Queue a webhook delivery again (same event and delivery id)", s.Redelivered,
          status=202, writes=True, errors=(404, 422)),
    Route("GET", "/events/types", webhook_events, T, "Event types of the outgoing webhooks",
          s.WebhookEvents),
)  # fmt: skip


# -- the pipeline ------------------------------------------------------------------------------


def _problem_for(exc: DomainError) -> ApiProblem:
    if isinstance(exc, use.StaleTicket):
        return ApiProblem("stale", str(exc), headers={"ETag": exc.current})
    if isinstance(exc, InvalidInput):
        return ApiProblem(
            "validation",
            str(exc),
            errors=[{"field": exc.field, "message": f"{exc.value!r} {exc.reason}".strip()}],
        )
    if isinstance(exc, TicketClosed):
        return ApiProblem("ticket-closed", str(exc))
    if isinstance(exc, TicketMerged):
        return ApiProblem(
            "ticket-merged", f"ticket {exc.number} was merged into {exc.into_number}"
        )
    if isinstance(exc, NotFound):
        return ApiProblem("not-found", str(exc))
    if isinstance(exc, InvalidTransition | NotAllowed):
        return ApiProblem("conflict", str(exc))
    return ApiProblem("conflict", str(exc))


def _validation(exc: ValidationError, where: str) -> ApiProblem:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    names = ", ".join(e["field"] for e in errors)
    return ApiProblem("validation", f"invalid {where}: {names}", errors=errors)


def _list_field(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    if info is None:
        return False
    return any(
        getattr(a, "__origin__", None) is list
        for a in (info.annotation, *get_args(info.annotation))
    )


def _parse_query(model: type[s.Request], request: web.Request) -> s.Request:
    raw: dict[str, Any] = {}
    for name in set(request.query.keys()):
        values = request.query.getall(name)
        if _list_field(model, name):
            raw[name] = [v for value in values for v in value.split(",") if v]
        else:
            raw[name] = values[-1]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _validation(exc, "query") from None


async def _parse_body(model: type[s.Body], request: web.Request) -> tuple[s.Body, bytes]:
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiProblem("payload-too-large", f"at most {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise ApiProblem("malformed-request", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiProblem("malformed-request", "the body must be a JSON object")
    try:
        return model.model_validate_json(raw), raw
    except ValidationError as exc:
        raise _validation(exc, "body") from None


def _json(result: Result) -> web.Response:
    return web.Response(
        status=result.status,
        text=result.body.model_dump_json(),
        content_type="application/json",
        headers=result.headers,
    )


class Api:
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps
        self.touched: dict[int, float] = {}

    async def authenticate(self, request: web.Request) -> ak.ApiKey:
        header = request.headers.get("Authorization", "")
        scheme, _sep, presented = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiProblem("unauthorized", "send Authorization: Bearer <key>", headers=challenge)
        # Read on every request (one lookup by the key's hash): a revoked key is refused by
        # every worker from the moment the revocation is committed.
        async with self.deps.uow_factory(readonly=True) as uow:
            key = await use.authenticate(uow, presented.strip())
        if key is None or key.id is None:
            raise ApiProblem("unauthorized", "unknown or revoked key", headers=challenge)
        return key

    async def touch(self, key: ak.ApiKey) -> None:
        assert key.id is not None
        now = time.monotonic()
        if now - self.touched.get(key.id, -math.inf) < TOUCH_EVERY_S:
            return
        self.touched[key.id] = now
        async with self.deps.uow_factory() as uow:
            await uow.apikeys.touch(key.id, self.deps.clock.now())
            await uow.commit()

    def endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            key = await self.authenticate(request)
            assert key.id is not None
            wait = await self.deps.quota.admit(f"api:{key.id}", self.deps.rate_per_min, 60)
            if wait:
                raise ApiProblem(
                    "rate-limited",
                    f"at most {self.deps.rate_per_min} requests a minute per key",
                    headers={"Retry-After": str(wait)},
                )
            if route.scope is not None and not key.allows(route.scope):
                raise ApiProblem("insufficient-scope", f"this needs the scope {route.scope}")
            await self.touch(key)
            query = _parse_query(route.query, request) if route.query else None
            if route.query is None and request.query:
                unknown = sorted(request.query.keys())
                raise ApiProblem(
                    "validation",
                    "unknown parameters: " + ", ".join(unknown),
                    errors=[
                        {"field": n, "message": "Extra inputs are not permitted"} for n in unknown
                    ],
                )
            body, raw = (None, b"")
            if route.body is not None:
                body, raw = await _parse_body(route.body, request)
            idem = request.headers.get("Idempotency-Key") if route.method == "POST" else None
            if idem is not None and not 1 <= len(idem) <= 255:
                raise ApiProblem(
                    "validation",
                    "Idempotency-Key: 1 to 255 characters",
                    errors=[{"field": "Idempotency-Key", "message": "1 to 255 characters"}],
                )
            if not route.writes:
                async with self.deps.uow_factory(readonly=True) as uow:
                    answer = await route.handler(Call(request, key, uow, self.deps, query, body))
                return answer if isinstance(answer, web.StreamResponse) else _json(answer)
            fingerprint = hashlib.sha256(
                f"{route.method} {request.path}\n".encode() + raw
            ).hexdigest()
            try:
                async with self.deps.uow_factory() as uow:
                    if idem is not None:
                        replay = await self._replay(uow, key.id, idem, fingerprint)
                        if replay is not None:
                            return replay
                        await uow.idempotency.claim(
                            key.id, idem, fingerprint, self.deps.clock.now()
                        )
                    result = await route.handler(Call(request, key, uow, self.deps, query, body))
                    assert isinstance(result, Result), "writes answer with JSON"
                    if idem is not None:
                        await uow.idempotency.answer(
                            key.id, idem, result.status, result.body.model_dump_json()
                        )
                        await uow.commit()
            except IntegrityError:
                if idem is None:
                    raise
                # Another request with this key claimed it first (PostgreSQL, several workers).
                raise ApiProblem("idempotency-in-progress", "retry in a moment") from None
            self.deps.wake()
            return _json(result)

        return handle

    async def _replay(
        self, uow: AbstractUnitOfWork, key_id: int, idem: str, fingerprint: str
    ) -> web.Response | None:
        stored = await uow.idempotency.get(key_id, idem)
        if stored is None:
            return None
        if self.deps.clock.now() - stored.created_at > IDEMPOTENCY_WINDOW:
            await uow.idempotency.forget(key_id, idem)  # expired: this request starts afresh
            return None
        if stored.fingerprint != fingerprint:
            raise ApiProblem(
                "idempotency-key-reused", "this Idempotency-Key came with another request"
            )
        if stored.status is None:
            raise ApiProblem("idempotency-in-progress", "retry in a moment")
        return web.Response(
            status=stored.status,
            text=stored.body or "",
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


@web.middleware
async def problems(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error as problem+json: ours, the domain's, aiohttp's 404/405, and the unexpected."""
    try:
        return await handler(request)
    except ApiProblem as problem:
        return problem.response()
    except DomainError as exc:
        return _problem_for(exc).response()
    except web.HTTPNotFound:
        return ApiProblem("not-found", f"no resource at {request.path}").response()
    except web.HTTPMethodNotAllowed:
        return ApiProblem("method-not-allowed", f"{request.method} {request.path}").response()
    except web.HTTPRequestEntityTooLarge:
        return ApiProblem("payload-too-large").response()
    except Exception:
        log.exception("API request failed", method=request.method, path=request.path)
        return ApiProblem("internal").response()


def make_app(deps: ApiDeps) -> web.Application:
    from bot.api.openapi import document, page

    api = Api(deps)
    app = web.Application(middlewares=[problems], client_max_size=MAX_BODY)
    for route in ROUTES:
        path = PREFIX + route.path.replace("{number}", r"{number:\d{1,18}}").replace(
            "{telegram_id}", r"{telegram_id:-?\d{1,18}}"
        ).replace("{id}", r"{id:\d{1,9}}")
        app.router.add_route(route.method, path, api.endpoint(route))
    described = document()
    spec, html = json.dumps(described), page(described)

    async def openapi(_request: web.Request) -> web.Response:
        return web.Response(text=spec, content_type="application/json")

    async def docs(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app.router.add_get(PREFIX + "/openapi.json", openapi)
    app.router.add_get(PREFIX + "/docs", docs)
    return app


async def serve(deps: ApiDeps, host: str, port: int) -> web.AppRunner:
    """Start the API; the caller cleans the runner up on shutdown.

    ``SO_REUSEPORT``: several workers on one host all listen on ``HELPDESK_API_PORT`` and the
    kernel spreads the connections over them (no balancer needed there).
    """
    runner = web.AppRunner(make_app(deps), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=True).start()
    log.info("API up", host=host, port=port)
    return runner
