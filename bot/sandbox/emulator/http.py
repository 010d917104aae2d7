"""The emulator's HTTP front end (aiohttp) and the decoding of request parameters."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.dispatch import DispatchMixin
from bot.sandbox.emulator.waits import WaitsMixin
from bot.sandbox.emulator.world import MEDIA_KINDS, ApiError, Fault, UploadedFile

# Form-encoded values are all strings; these stay strings even when they look like JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "emoji",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "icon_custom_emoji_id",
        "file_id",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "performer",
        "inline_message_id",
        "ip_address",
        "custom_title",
        "address",
        "question",
        "payload",
        *MEDIA_KINDS,
        "thumbnail",
        "cover",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "media",
        "allowed_updates",
        "commands",
        "scope",
        "reaction",
        "message_ids",
        "link_preview_options",
    }
)


def decode_form_value(key: str, value: Any) -> Any:
    """Turn one form field back into the JSON value the client meant.

    aiogram sends every field as a string: numbers as ``"42"``, booleans as ``"true"`` and
    objects as JSON text. Free-text fields stay strings whatever they look like.
    """
    if not isinstance(value, str) or key in _STRING_FIELDS:
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    stripped = value.strip()
    if stripped in ("true", "false", "null") or stripped[:1] in "-0123456789[{":
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def decode_params(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Decode form/query fields into typed params (see ``decode_form_value``)."""
    return {key: decode_form_value(key, value) for key, value in fields}


def _normalise_json_params(body: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in body.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


class HttpMixin(DispatchMixin, WaitsMixin, FilesApi):
    """The HTTP front end: the Bot API, file downloads and the ``/_emulator`` control."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API over HTTP; returns ``base_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._http_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._http_file)
        app.router.add_get("/_emulator/state", self._http_state)
        app.router.add_post("/_emulator/{action}", self._http_control)
        # handler_cancellation: a client that gives up should end its long poll, as on Telegram.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._closing = False
        self._base_url = f"http://{bound_host}:{bound_port}"
        return self._base_url

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            msg = "the emulator is not serving HTTP; call start() first"
            raise RuntimeError(msg)
        return self._base_url

    def api_server(self) -> TelegramAPIServer:
        """A ``TelegramAPIServer`` pointing aiogram at this emulator."""
        return TelegramAPIServer.from_base(self.base_url)

    async def stop(self) -> None:
        self._closing = True
        self._wake_poller("closing")
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params = decode_params(request.query.items())
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(_normalise_json_params(body))
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = decode_form_value(key, value)
        return params

    async def _http_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params = await self._read_params(request)
        outcome = await self.process(method, params, token=token, transport="http")
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.drop:
            if request.transport is not None:
                request.transport.close()
            # The connection is gone: this response is never written.
            return web.Response(status=500)
        return web.Response(
            status=outcome.status,
            text=outcome.body(),
            content_type=outcome.content_type,
        )

    async def _http_file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self.token is not None and token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        content = self.file_by_path(request.match_info["path"])
        if content is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    _CONTROL_ACTIONS = frozenset(
        {
            "add_user",
            "add_supergroup",
            "add_member",
            "user_sends_text",
            "user_sends_media",
            "user_sends_location",
            "user_sends_contact",
            "user_sends_album",
            "user_edits",
            "user_presses",
            "user_reacts",
            "block_bot",
            "unblock_bot",
            "inject_fault",
            "clear_faults",
            "set_rate_limits",
            "clear_rate_limits",
        }
    )

    async def _http_control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in self._CONTROL_ACTIONS:
            return web.json_response({"ok": False, "description": f"unknown {action}"}, status=404)
        kwargs = await request.json() if request.body_exists else {}
        try:
            result = getattr(self, action)(**kwargs)
        except (KeyError, TypeError, ValueError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        if isinstance(result, Fault):
            result = {"kind": result.kind, "method": result.method, "times": result.times}
        return web.json_response({"ok": True, "result": result})

    async def _http_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The world as JSON: users, chats with topics and messages, pending updates, calls."""
        return {
            "bot": self.bot_user,
            "users": [
                {**s.user, "blocked": s.blocked, "started": s.started}
                for s in self._users.values()
            ],
            "chats": [
                {
                    "chat": s.chat,
                    "topics": self.topics(s.id),
                    "messages": self.messages_in(s.id, include_service=True),
                    "pinned": s.pinned,
                }
                for s in self._chats.values()
            ],
            "pending_updates": self._updates,
            "calls": [c.describe() for c in self.calls[-200:]],
        }
