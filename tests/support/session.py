"""An aiogram session that talks to ``BotApiEmulator`` in-process, for fast handler tests.

Requests are serialised the way ``AiohttpSession`` serialises them (form fields, JSON-encoded
objects, ``attach://`` uploads), answered by ``BotApiEmulator.process`` with the same faults
and rate limits as over HTTP, and mapped to aiogram exceptions by ``check_response``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update

from bot.middlewares.responses import KeepResponseModels
from bot.runtime.processor import apply
from bot.sandbox.emulator import BotApiEmulator, UploadedFile, decode_form_value

if TYPE_CHECKING:
    from aiogram import Dispatcher


class EmulatorSession(BaseSession):
    """``BaseSession`` whose transport is a direct call into the emulator."""

    def __init__(self, emulator: BotApiEmulator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.emulator = emulator

    async def close(self) -> None:
        return None

    async def build_params(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        """The params the emulator would decode from ``AiohttpSession``'s form data."""
        files: dict[str, InputFile] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue  # AiohttpSession.build_form_data drops empty values too.
            params[key] = decode_form_value(key, prepared)
        for key, input_file in files.items():
            content = b"".join([chunk async for chunk in input_file.read(bot)])
            params[key] = UploadedFile(input_file.filename or key, content)
        return params

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        params = await self.build_params(bot, method)
        limit = self.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                outcome = await self.emulator.process(
                    method.__api_method__, params, token=bot.token, transport="session"
                )
                if outcome.delay:
                    await asyncio.sleep(outcome.delay)
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        if outcome.drop:
            raise TelegramNetworkError(
                method=method, message="ServerDisconnectedError: Server disconnected"
            )
        response = self.check_response(
            bot=bot, method=method, status_code=outcome.status, content=outcome.body()
        )
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        _, _, tail = url.partition("/file/bot")
        file_path = tail.partition("/")[2]
        content = self.emulator.file_by_path(file_path)
        if content is None:
            if raise_for_status:
                msg = f"no file at {url}"
                raise FileNotFoundError(msg)
            return
        for start in range(0, len(content), chunk_size):
            yield content[start : start + chunk_size]


def make_bot(emulator: BotApiEmulator, token: str | None = None, **kwargs: Any) -> Bot:
    """A ``Bot`` wired to ``emulator`` through ``EmulatorSession`` (no network); its
    session keeps response models as production's does (``bot.app.make_bot``)."""
    session = EmulatorSession(emulator)
    session.middleware(KeepResponseModels())
    return Bot(token or emulator.token or "123456789:TEST", session=session, **kwargs)


async def feed(dp: Dispatcher, bot: Bot, update: dict[str, Any]) -> Any:
    """Run one raw update through the dispatcher, as the inbox processor does: in a unit of
    work of its own when ``dp`` is the desk's (without the inbox: a handler's exception
    reaches the test)."""
    uow_factory = dp.workflow_data.get("uow_factory")
    if uow_factory is None:  # a plain Dispatcher of an emulator test
        return await dp.feed_raw_update(bot, update)
    parsed = Update.model_validate(update, context={"bot": bot})
    async with uow_factory() as uow:
        return await apply(dp, bot, parsed, uow)


async def feed_pending(dp: Dispatcher, bot: Bot, emulator: BotApiEmulator) -> list[Any]:
    """Confirm and feed every pending update of ``emulator``, in order."""
    return [await feed(dp, bot, update) for update in emulator.take_updates()]
