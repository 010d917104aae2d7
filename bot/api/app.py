"""The REST API (``/api/v1``): aiohttp, served by every bot process on ``HELPDESK_API_PORT``.

Here: the route handlers (each calls one use case of :mod:`bot.services.api` and renders its
answer with :mod:`bot.api.views`) and the route table. Every request reaches its handler
through the pipeline of :mod:`bot.api.pipeline` (key, rate limit, scope, validation,
idempotency, problem+json). The route table is also what the OpenAPI document is generated
from (:mod:`bot.api.openapi`), so the document cannot describe another API.
"""

from __future__ import annotations

import json

from aiohttp import web

from bot.adapters.files import FileUnavailable
from bot.api import schemas as s
from bot.api import views
from bot.api.csat import RatingDeps, make_rating_app
from bot.api.pipeline import (
    MAX_BODY,
    PREFIX,
    Api,
    ApiDeps,
    Call,
    Result,
    Route,
    problems,
)
from bot.api.problems import ApiProblem
from bot.api.widget import WidgetDeps, make_widget_app
from bot.logs import get_logger
from bot.services import api as use
from bot.services.apikeys import audit_by
from models import NotFound, Ticket
from models import apikeys as ak
from models import webhooks as wh

log = get_logger(__name__)

__all__ = ["PREFIX", "ROUTES", "ApiDeps", "make_app", "serve"]


async def _ticket_result(call: Call, ticket: Ticket, status: int = 200) -> Result:
    """A ticket just changed, as the API shows it."""
    rel = await use.related(call.uow, [ticket], call.deps.zone, call.deps.clock.now())
    return _one_ticket(ticket, rel, status)


def _one_ticket(ticket: Ticket, rel: use.Related, status: int = 200) -> Result:
    body = s.TicketOut.model_validate(views.ticket(ticket, rel))
    return Result(body, status, {"ETag": use.etag(ticket)})


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
    tickets, rel = await use.list_tickets(
        call.uow, wanted, q.cursor, q.limit, call.deps.zone, call.deps.clock.now()
    )
    more = len(tickets) == q.limit
    return Result(
        s.TicketPage.model_validate(
            {
                "items": [views.ticket(t, rel) for t in tickets],
                "next_cursor": tickets[-1].id if more and tickets else None,
            }
        )
    )


async def search_tickets(call: Call) -> Result:
    q: s.SearchQuery = call.query
    found, rel, more = await use.search_tickets(
        call.uow, q.q, q.offset, q.limit, call.deps.zone, call.deps.clock.now()
    )
    return Result(
        s.SearchResults.model_validate(
            {
                "items": [{"ticket": views.ticket(t, rel), "snippet": sn} for t, sn in found],
                "next_offset": q.offset + q.limit if more else None,
            }
        )
    )


async def get_ticket(call: Call) -> Result:
    ticket, rel = await use.get_ticket(
        call.uow, call.number, call.deps.zone, call.deps.clock.now()
    )
    return _one_ticket(ticket, rel)


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


async def serve(
    deps: ApiDeps,
    host: str,
    port: int,
    widget: WidgetDeps | None = None,
    rating: RatingDeps | None = None,
) -> web.AppRunner:
    """Start the API (and the chat widget's endpoints under ``/widget/``, when ``widget`` is
    given, and the rating pages of mails under ``/csat/``, when ``rating`` is); the caller
    cleans the runner up on shutdown.

    ``SO_REUSEPORT``: several workers on one host all listen on ``HELPDESK_API_PORT`` and the
    kernel spreads the connections over them (no balancer needed there).
    """
    app = make_app(deps)
    if widget is not None:
        app.add_subapp("/widget/", make_widget_app(widget))
    if rating is not None:
        app.add_subapp("/csat/", make_rating_app(rating))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=True).start()
    log.info("API up", host=host, port=port)
    return runner
