"""A local webhook receiver (aiohttp test server) that checks signatures like a real one would.

Its answers are scripted: each request takes the next entry of ``script`` (an HTTP status, a
``(status, headers)`` pair, ``"drop"`` to drop the connection, or ``("sleep", seconds)``), and
gets 200 once the script is used up. The signature is verified with :mod:`hmac` directly, not
with the project's own code.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Hit:
    """One request as the receiver saw it."""

    at: float
    event: str
    delivery: str
    body: dict[str, Any]
    signature_ok: bool
    answer: str


@dataclass
class Receiver:
    secret: str
    script: list[Any] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def accepted(self) -> list[Hit]:
        return [h for h in self.hits if h.answer == "200"]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stamp = request.headers.get("X-Helpdesk-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256
            ).hexdigest()
        )
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
        ok = fresh and hmac.compare_digest(
            expected, request.headers.get("X-Helpdesk-Signature", "")
        )
        step = self.script.pop(0) if self.script else 200
        hit = Hit(
            at=time.monotonic(),
            event=request.headers.get("X-Helpdesk-Event", ""),
            delivery=request.headers.get("X-Helpdesk-Delivery", ""),
            body=json.loads(raw),
            signature_ok=ok and request.headers.get("Content-Type") == "application/json",
            answer=str(step[0] if isinstance(step, tuple) and step[0] != "sleep" else step),
        )
        self.hits.append(hit)
        if step == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if step == "wait":  # hold the answer until the test releases it
            hit.answer = "200"
            await self.release.wait()
            return web.Response(status=200)
        if isinstance(step, tuple) and step[0] == "sleep":
            await asyncio.sleep(step[1])
            hit.answer = "slept"
            return web.Response(status=200)
        if isinstance(step, tuple):
            status, headers = step
            return web.Response(status=status, headers=headers, text="busy")
        return web.Response(status=int(step), text="ok" if step == 200 else "no")


@asynccontextmanager
async def receiver(secret: str, script: list[Any] | None = None) -> AsyncIterator[Receiver]:
    rec = Receiver(secret, list(script or []))
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.url = str(server.make_url("/hook"))
    try:
        yield rec
    finally:
        rec.release.set()
        await server.close()
