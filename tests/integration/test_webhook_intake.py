"""The webhook endpoint answers 200 only once the update is stored; otherwise Telegram retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.runtime.telegram_webhook import SECRET_HEADER, WebhookIntake, make_app
from storage import AbstractUnitOfWork

SECRET = "s3cret-token-for-tests"
UPDATE = {"update_id": 41, "message": {"message_id": 7, "date": 0, "chat": {"id": 1}}}


async def post(intake: WebhookIntake, body: Any, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with TestClient(TestServer(make_app(intake, "/hook"))) as client:
        response = await client.post("/hook", json=body, headers=headers)
        return response.status


async def pending_ids(uow_factory: Callable[..., AbstractUnitOfWork]) -> list[int]:
    async with uow_factory() as uow:
        return [item.update_id for item in await uow.inbox.pending()]


async def test_stored_before_the_answer_and_only_once(uow_factory: Any) -> None:
    woken = []
    intake = WebhookIntake(uow_factory, SECRET, on_stored=lambda: woken.append(1))
    assert await post(intake, UPDATE) == 200
    assert await pending_ids(uow_factory) == [41]
    assert await post(intake, UPDATE) == 200  # Telegram resends: stored once
    assert await pending_ids(uow_factory) == [41]
    assert len(woken) == 2


async def test_wrong_or_missing_secret_and_garbage_store_nothing(uow_factory: Any) -> None:
    intake = WebhookIntake(uow_factory, SECRET)
    assert await post(intake, UPDATE, secret="wrong") == 403
    assert await post(intake, UPDATE, secret=None) == 403
    assert await post(intake, {"no": "update"}) == 400
    assert await pending_ids(uow_factory) == []


async def test_a_database_failure_answers_500_so_telegram_retries(uow_factory: Any) -> None:
    class Broken:
        def __call__(self, **_: Any) -> Any:
            raise OSError("disk full")

    assert await post(WebhookIntake(Broken(), SECRET), UPDATE) == 500  # type: ignore[arg-type]
    assert await pending_ids(uow_factory) == []
