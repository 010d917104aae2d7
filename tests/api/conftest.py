"""The REST API over real HTTP: the in-process desk (against the Bot API emulator) with the API
served on a free local port."""

from __future__ import annotations

import json as json_module
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.files import TelegramFiles
from bot.api.app import ApiDeps, make_app
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.services import apikeys
from models import apikeys as ak
from tests.support.desk import Desk, make_desk

ALL_SCOPES = ",".join(ak.SCOPES)


@dataclass(frozen=True)
class Exchange:
    """A request and its response, kept to check against the OpenAPI document."""

    method: str
    url: str
    query: dict[str, Any]
    status: int
    body: bytes
    headers: dict[str, str]
    content_type: str


@dataclass
class ApiClient:
    desk: Desk
    base: str
    http: aiohttp.ClientSession
    key: str
    seen: list[Exchange] = field(default_factory=list)

    async def new_key(self, name: str, scopes: str = ALL_SCOPES) -> str:
        async with self.desk.uow_factory() as uow:
            new = await apikeys.create_key(uow, name, scopes, datetime.now(UTC))
            await uow.commit()
        return new.key

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> tuple[int, Any, Any]:
        """(status, parsed JSON body, headers); ``key=""`` sends no Authorization."""
        sent = dict(headers or {})
        key = self.key if key is None else key
        if key:
            sent["Authorization"] = f"Bearer {key}"
        async with self.http.request(
            method, self.base + path, json=json, headers=sent, params=params
        ) as response:
            text = await response.text()
            self.seen.append(
                Exchange(
                    method,
                    str(response.url.with_query(None)),
                    dict(response.url.query),
                    response.status,
                    text.encode(),
                    dict(response.headers),
                    response.content_type,
                )
            )
            return response.status, (json_module.loads(text) if text else None), response.headers

    async def get(self, path: str, **kw: Any) -> tuple[int, Any, Any]:
        return await self.call("GET", path, **kw)


async def serve_api(
    desk: Desk, rate_per_min: int = 10_000, quota: Coordinator | None = None
) -> tuple[web.AppRunner, str]:
    """The API of ``desk`` on a free port (``quota``: the worker's coordinator, else its own
    in-memory one); returns the runner and the API's base URL."""
    deps = ApiDeps(
        desk.uow_factory,
        desk.presenter,
        rate_per_min=rate_per_min,
        files=TelegramFiles(desk.bot, desk.settings.data_dir / "api-files"),
        quota=quota or LocalCoordinator(),
    )
    runner = web.AppRunner(make_app(deps))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/api/v1"


@pytest.fixture
async def api(tmp_path: Path, db_url: str) -> AsyncIterator[ApiClient]:
    """The API of a desk on each backend (PostgreSQL when its URL is set)."""
    desk = await make_desk(tmp_path, database_url=db_url)
    runner, base = await serve_api(desk)
    async with aiohttp.ClientSession() as http:
        client = ApiClient(desk, base, http, "")
        client.key = await client.new_key("crm")
        yield client
    await runner.cleanup()
    await desk.close()
    check_contract(client.seen)


def check_contract(seen: list[Exchange]) -> None:
    """Every response the test got is one the OpenAPI document describes (status, headers,
    body schema): each API test is also a contract test."""
    from openapi_core import Config, OpenAPI
    from openapi_core.testing import MockRequest, MockResponse
    from yarl import URL

    from bot.api.openapi import document
    from bot.api.problems import CONTENT_TYPE as PROBLEM_TYPE

    config = Config(extra_media_type_deserializers={PROBLEM_TYPE: json_module.loads})
    described = document()
    spec = OpenAPI.from_dict(described, config=config)
    routes = [
        re.compile("^" + re.sub(r"\{[a-z_]+\}", "-?[0-9]+", path) + "$")
        for path in described["paths"]
    ]
    for exchange in seen:
        url = URL(exchange.url)
        if not any(r.match(url.path) for r in routes):
            continue  # a path the API does not have (its 404 is checked by the test itself)
        request = MockRequest(
            f"{url.scheme}://{url.host}:{url.port}",
            exchange.method.lower(),
            url.path,
            args=exchange.query,
        )
        response = MockResponse(
            exchange.body,
            status_code=exchange.status,
            headers=exchange.headers,
            content_type=exchange.content_type,
        )
        spec.validate_response(request, response)
