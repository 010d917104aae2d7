"""Webhook mode: Telegram posts each update to us; it is stored before we answer 200.

Telegram keeps an update and posts it again until it gets a 2xx answer, so answering only after
the inbox commit gives the same guarantee as the polling intake: a crash before the answer means
the update comes again (the inbox ignores what it already has), a crash after it means it is
stored. Processing is the same inbox processor as with polling.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

from bot.logs import get_logger
from bot.services.ports import UowFactory

log = get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookIntake:
    def __init__(
        self, uow_factory: UowFactory, secret: str, *, on_stored: Callable[[], None] = lambda: None
    ) -> None:
        self.uow_factory = uow_factory
        self.secret = secret
        self.on_stored = on_stored

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request with a wrong secret", remote=request.remote)
            return web.Response(status=403, text="wrong secret token")
        try:
            update = await request.json()
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("webhook request without an update", remote=request.remote)
            return web.Response(status=400, text="not a Telegram update")
        try:
            async with self.uow_factory() as uow:
                await uow.inbox.add_many([(update_id, json.dumps(update))], datetime.now(UTC))
                await uow.commit()
        except Exception as exc:  # database trouble: a non-2xx answer makes Telegram retry
            log.exception("storing a webhook update failed", update_id=update_id)
            return web.Response(status=500, text=f"not stored: {type(exc).__name__}")
        self.on_stored()
        return web.Response(text="ok")


def webhook_path(url: str) -> str:
    """The path this process serves: the path of the public URL Telegram posts to."""
    return urlsplit(url).path or "/"


def make_app(intake: WebhookIntake, path: str) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(path, intake.handle)
    return app


async def serve(intake: WebhookIntake, path: str, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(make_app(intake, path), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("webhook endpoint up", host=host, port=port, path=path)
    return runner
