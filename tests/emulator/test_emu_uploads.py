"""Files queued in the outbox as upload references reach Telegram as multipart uploads.

The call goes the way the sender makes it: JSON params from the outbox, references resolved by
the delivery adapter, the method validated from the resolved params, then sent, over HTTP
(``AiohttpSession``) and in-process (``EmulatorSession``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.adapters.delivery import DeliveryAdapter
from bot.adapters.presenter import Presenter
from bot.adapters.reports import ReportRenderer
from bot.runtime.sender import METHODS
from bot.sandbox.emulator import BotApiEmulator
from bot.services.reports import Place
from bot.texts import make_i18n
from models.delivery import OutboundCall, Upload, decode_params, encode_params
from models.stats import Period


def adapter() -> DeliveryAdapter:
    i18n = make_i18n("en")
    return DeliveryAdapter(i18n, Presenter(i18n, agent_chat_id=-1))


async def send(bot: Bot, call: OutboundCall) -> object:
    stored = decode_params(encode_params(call.params))  # what the outbox row gives back
    queued = OutboundCall(call.chat_id, call.method, stored)
    params = await adapter().resolve(None, queued, datetime.now(UTC))  # type: ignore[arg-type]
    return await bot(METHODS[call.method].model_validate(params))


async def test_document_upload(api: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = api
    ann = emulator.add_user("Ann")
    content = bytes(range(256)) * 100  # binary, not text
    i18n = make_i18n("en")
    I18n.set_current(i18n)
    renderer = ReportRenderer(i18n)
    counts = {"tickets": 1, "messages": 2, "events": 3, "ratings": 4}
    [call] = renderer.export(
        Place(ann["id"]), Period(date(2026, 3, 2), date(2026, 3, 8)), content, counts
    )
    message = await send(bot, call)
    document = message.document  # type: ignore[attr-defined]
    assert document.file_name == "helpdesk-2026-03-02-2026-03-08.zip"
    assert emulator.files[document.file_id].content == content
    assert "1 tickets, 2 messages" in message.caption  # type: ignore[attr-defined]


async def test_photo_upload_in_a_topic(api: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = api
    group = emulator.add_supergroup("Agents", is_forum=True)
    thread = (await bot.create_forum_topic(group["id"], "Reports")).message_thread_id
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    params = {
        "chat_id": group["id"],
        "photo": Upload("stats.png", png),
        "caption": "week",
        "message_thread_id": thread,
    }
    message = await send(bot, OutboundCall(group["id"], "sendPhoto", params))
    photo = message.photo[-1]  # type: ignore[attr-defined]
    assert emulator.files[photo.file_id].content == png
    assert message.message_thread_id == thread  # type: ignore[attr-defined]


async def test_a_damaged_upload_is_refused_when_made_not_when_read() -> None:
    """A stored upload that does not decode leaves its chat's queue moving: reading the row
    works, and the call fails validation when it is made (the sender then gives it up)."""
    params = decode_params('{"chat_id": 1, "photo": {"@upload": "x.png", "b64": "%%"}}')
    resolved = await adapter().resolve(
        None,  # type: ignore[arg-type]
        OutboundCall(1, "sendPhoto", params),
        datetime.now(UTC),
    )
    with pytest.raises(ValueError, match="photo"):
        METHODS["sendPhoto"].model_validate(resolved)
