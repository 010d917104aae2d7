"""``/apikey create|list|revoke``: REST API keys, for admins (group or private chat)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.handlers.common import telegram_user
from bot.services import apikeys
from bot.services.ports import Clock
from models import Role
from models import apikeys as ak
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork


@dataclass(frozen=True)
class ApiKeyTexts:
    """Answers to ``/apikey`` where it was given (implements ``ApiKeyReplies``)."""

    chat_id: int
    private: bool
    thread_id: int | None = None
    reply_to: int | None = None

    def _here(self, text: str) -> OutboundCall:
        params: dict[str, Any] = {"chat_id": self.chat_id, "text": text}
        if self.thread_id is not None:
            params["message_thread_id"] = self.thread_id
        if self.reply_to is not None:
            params["reply_parameters"] = {
                "message_id": self.reply_to,
                "allow_sending_without_reply": True,
            }
        return OutboundCall(chat_id=self.chat_id, method="sendMessage", params=params)

    def created(self, new: ak.NewKey, admin_chat_id: int) -> list[OutboundCall]:
        head = "✅ " + _("API key “{name}” created. Scopes: {scopes}").format(
            name=escape(new.record.name), scopes=", ".join(new.record.scopes)
        )
        secret = _(
            "🔑 API key “{name}”: <code>{key}</code>\n"
            "Send it as “Authorization: Bearer …”. It is shown this once: keep it private."
        ).format(name=escape(new.record.name), key=new.key)
        if self.private:
            return [self._here(head + "\n\n" + secret)]
        to_admin = OutboundCall(
            chat_id=admin_chat_id,
            method="sendMessage",
            params={"chat_id": admin_chat_id, "text": secret},
        )
        return [self._here(head + "\n" + _("The key was sent to you privately.")), to_admin]

    def listed(self, keys: list[ak.ApiKey]) -> list[OutboundCall]:
        if not keys:
            return [self._here(escape(_("No API keys yet. Create one with /apikey create.")))]
        lines = ["🔑 <b>" + _("API keys") + "</b>"]
        for key in keys:
            used = (
                key.last_used_at.strftime("%Y-%m-%d %H:%M")
                if key.last_used_at
                else _("never used")
            )
            lines.append(f"{escape(key.name)}: {', '.join(key.scopes)} ({used})")
        return [self._here("\n".join(lines))]

    def revoked(self, key: ak.ApiKey) -> list[OutboundCall]:
        return [self._here("🗑 " + _("API key “{name}” revoked.").format(name=escape(key.name)))]

    def not_found(self, name: str) -> list[OutboundCall]:
        return [
            self._here(
                _("There is no API key “{name}”. /apikey list shows them.").format(
                    name=escape(name[:64])
                )
            )
        ]

    def usage(self) -> list[OutboundCall]:
        return [
            self._here(
                escape(
                    _(
                        "Usage:\n/apikey create <name> <scope,scope…>\n/apikey list\n"
                        "/apikey revoke <name>\nScopes: {scopes}."
                    )
                ).format(scopes=", ".join(ak.SCOPES))
            )
        ]


def texts_for(message: Message) -> ApiKeyTexts:
    return ApiKeyTexts(
        chat_id=message.chat.id,
        private=message.chat.type == "private",
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to=message.message_id,
    )


async def on_apikey(
    message: Message, command: CommandObject, uow: AbstractUnitOfWork, clock: Clock
) -> None:
    """``/apikey <create|list|revoke> ...``: one use case per subcommand."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    replies = texts_for(message)
    sub, _sep, rest = (command.args or "").strip().partition(" ")
    args = rest.split()
    now = clock.now()
    match sub.lower(), len(args):
        case "create", n if n >= 2:
            await apikeys.add_by_admin(uow, replies, user, args[0], " ".join(args[1:]), now)
        case "list", 0:
            await apikeys.list_by_admin(uow, replies, user, now)
        case "revoke", 1:
            await apikeys.revoke_by_admin(uow, replies, user, args[0], now)
        case _:
            await apikeys.usage(uow, replies, user, now)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_apikey, Command("apikey"), HasRole(Role.ADMIN))
    return router
