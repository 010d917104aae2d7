"""A round-robin HTTP load balancer for the tests, as nginx would sit in front of several
webhook workers: each request goes to the next worker; a worker that cannot be reached (or
drops the connection) is skipped and the request goes to the next one."""

from __future__ import annotations

from collections import Counter

import aiohttp
from aiohttp import web

FORWARDED = ("content-type", "x-telegram-bot-api-secret-token")


class Balancer:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = 0
        #: Requests each upstream answered, and how many times one could not be reached.
        self.answered: Counter[str] = Counter()
        self.unreachable: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self, port: int) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[self.turn % len(self.upstreams)]
            self.turn += 1
            try:
                async with self._http.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
            except (aiohttp.ClientConnectionError, TimeoutError):
                self.unreachable[upstream] += 1
                continue
            self.answered[upstream] += 1
            return web.Response(status=answer.status, body=payload)
        return web.Response(status=502, text="no worker reachable")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
