"""The REST API's request pipeline: what every route goes through.

Key (``Authorization: Bearer``, looked up on each request) -> the key's rate limit (the
coordinator's: one count for the whole desk) -> scope -> query and body validated by their
pydantic models (unknown fields refused) -> ``Idempotency-Key`` (POST) -> the route's handler,
in one unit of work -> JSON. Every refusal on the way is a problem+json with a stable ``type``
(:mod:`bot.api.problems`), and so is every domain error and every surprise (:func:`problems`).
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

from bot.adapters.files import TelegramFiles
from bot.api import schemas as s
from bot.api.problems import ApiProblem
from bot.logs import get_logger
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.services import api as use
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


@dataclass(frozen=True)
class Admitted:
    """A request past the key, its limit and scope, with its inputs parsed."""

    key: ak.ApiKey
    query: Any
    body: Any
    raw: bytes
    idempotency_key: str | None


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


async def parse_body(model: type[s.Body], request: web.Request) -> tuple[s.Body, bytes]:
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

    async def authenticate(self, request: web.Request, uow: AbstractUnitOfWork) -> ak.ApiKey:
        header = request.headers.get("Authorization", "")
        scheme, _sep, presented = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiProblem("unauthorized", "send Authorization: Bearer <key>", headers=challenge)
        # Read on every request (one lookup by the key's hash): a revoked key is refused by
        # every worker from the moment the revocation is committed.
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

    async def admit(self, route: Route, request: web.Request, key: ak.ApiKey) -> Admitted:
        """The key's rate limit and scope, then the query, the body and the Idempotency-Key
        (each refusal a problem)."""
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
            body, raw = await parse_body(route.body, request)
        idem = request.headers.get("Idempotency-Key") if route.method == "POST" else None
        if idem is not None and not 1 <= len(idem) <= 255:
            raise ApiProblem(
                "validation",
                "Idempotency-Key: 1 to 255 characters",
                errors=[{"field": "Idempotency-Key", "message": "1 to 255 characters"}],
            )
        return Admitted(key, query, body, raw, idem)

    def endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not route.writes:
                # A read: the key, the checks and the answer in one read-only unit of work.
                async with self.deps.uow_factory(readonly=True) as uow:
                    ok = await self.admit(route, request, await self.authenticate(request, uow))
                    call = Call(request, ok.key, uow, self.deps, ok.query, ok.body)
                    answer = await route.handler(call)
                return answer if isinstance(answer, web.StreamResponse) else _json(answer)
            # A write: the key is checked without taking the write lock (SQLite) first.
            async with self.deps.uow_factory(readonly=True) as uow:
                key = await self.authenticate(request, uow)
            return await self._write(route, request, await self.admit(route, request, key))

        return handle

    async def _write(self, route: Route, request: web.Request, ok: Admitted) -> web.Response:
        key_id, idem = ok.key.id or 0, ok.idempotency_key
        fingerprint = hashlib.sha256(
            f"{route.method} {request.path}\n".encode() + ok.raw
        ).hexdigest()
        try:
            async with self.deps.uow_factory() as uow:
                if idem is not None:
                    replay = await self._replay(uow, key_id, idem, fingerprint)
                    if replay is not None:
                        return replay
                    await uow.idempotency.claim(key_id, idem, fingerprint, self.deps.clock.now())
                call = Call(request, ok.key, uow, self.deps, ok.query, ok.body)
                result = await route.handler(call)
                assert isinstance(result, Result), "writes answer with JSON"
                if idem is not None:
                    await uow.idempotency.answer(
                        key_id, idem, result.status, result.body.model_dump_json()
                    )
                    await uow.commit()
        except IntegrityError:
            if idem is None:
                raise
            # Another request with this key claimed it first (PostgreSQL, several workers).
            raise ApiProblem("idempotency-in-progress", "retry in a moment") from None
        self.deps.wake()
        return _json(result)

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
