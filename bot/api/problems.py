"""Errors as ``application/problem+json`` (RFC 9457), one stable ``type`` per kind of error."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api.schemas import Problem

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:helpdesk:problem:"

#: slug -> (status, title): the error kinds clients may rely on.
KINDS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "Missing or unknown API key"),
    "insufficient-scope": (403, "The key lacks the scope this needs"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "malformed-request": (400, "The body is not a JSON object"),
    "validation": (422, "Invalid request"),
    "conflict": (409, "Not possible in the ticket's state"),
    "ticket-closed": (409, "The ticket is closed"),
    "ticket-merged": (409, "The ticket was merged into another"),
    "stale": (412, "The ticket changed since that version"),
    "idempotency-key-reused": (422, "Idempotency-Key reused with another request"),
    "idempotency-in-progress": (409, "A request with this Idempotency-Key is still running"),
    "rate-limited": (429, "Too many requests"),
    "unknown-visitor": (401, "Missing or unknown visitor token"),
    "forbidden-origin": (403, "This site may not use the chat widget"),
    "payload-too-large": (413, "Request body too large"),
    "file-too-large": (422, "The file is larger than Telegram lets a bot download"),
    "file-unavailable": (502, "Telegram did not give the file"),
    "internal": (500, "Internal error"),
}


class ApiProblem(Exception):
    """Raised anywhere in a request; the error middleware renders it."""

    def __init__(
        self,
        kind: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or kind)
        assert kind in KINDS, kind
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return KINDS[self.kind][0]

    def response(self) -> web.Response:
        status, title = KINDS[self.kind]
        body = Problem(
            type=TYPE_PREFIX + self.kind,
            title=title,
            status=status,
            detail=self.detail,
            errors=self.errors,
        )
        return web.Response(
            status=status,
            text=body.model_dump_json(exclude_none=True),
            content_type=CONTENT_TYPE,
            headers=self.headers,
        )
