"""Bot API methods for the bot itself and its updates: getMe, getUpdates, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

import aiohttp

from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.validation import _bool, _int, _json, _str
from bot.sandbox.emulator.world import ApiError, bad_request


class UpdatesApi(EmulatorState):
    """getMe, getUpdates and webhooks: how updates reach the bot."""

    def _ok(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset")
        # telegram-bot-api clamps a given limit into 1..100; only a missing one means 100.
        limit = _int(params, "limit")
        limit = 100 if limit is None else min(100, max(1, limit))
        timeout = max(0, _int(params, "timeout") or 0)
        allowed = _json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            else:
                self._updates = self._updates[offset:]
        # Telegram answers an older, still waiting getUpdates with 409 when a new one arrives.
        self._wake_poller("conflict")
        if not self._updates and timeout > 0 and not self._closing:
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                reason = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        batch = self._updates[:limit]
        for update in batch:
            self._delivery_counts[update["update_id"]] = (
                self._delivery_counts.get(update["update_id"], 0) + 1
            )
        return copy.deepcopy(batch)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = _str(params, "url")
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        allowed = _json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://") and not (
            self.allow_http_webhooks and url.startswith("http://")
        ):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "max_connections": _int(params, "max_connections") or 40,
            "secret_token": _str(params, "secret_token"),
            "ip_address": _str(params, "ip_address"),
        }
        self._wake_poller("conflict")
        self._start_pusher()
        return True

    def _start_pusher(self) -> None:
        if self._pusher is None or self._pusher.done():
            self._push_wakeup = asyncio.Event()
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())

    async def _push_updates(self) -> None:
        """Deliver queued updates to the webhook one at a time, in order, as Telegram does:
        an update stays queued until the bot answers 2xx; failures are retried."""
        assert self._push_wakeup is not None
        async with aiohttp.ClientSession() as http:
            while self.webhook is not None and not self._closing:
                if not self._updates:
                    self._push_wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._push_wakeup.wait(), 0.5)
                    continue
                update = self._updates[0]
                hook = self.webhook
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                outcome: int | str
                try:
                    async with http.post(
                        hook["url"],
                        json=update,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as response:
                        outcome = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome = type(exc).__name__
                self.webhook_attempts.append((update["update_id"], outcome))
                if isinstance(outcome, int) and 200 <= outcome < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    uid = update["update_id"]
                    self._delivery_counts[uid] = self._delivery_counts.get(uid, 0) + 1
                else:
                    await asyncio.sleep(0.2)

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info
