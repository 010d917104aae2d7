"""``/apikey create|list|revoke``: REST API keys, for admins (group or private chat)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.handlers.answers import AnswerHere
from bot.handlers.common import telegram_user
from bot.services import apikeys
from bot.services.ports import AbstractUnitOfWork, Clock
from models import Role
from models import apikeys as ak
from models.delivery import OutboundCall


class ApiKeyTexts(AnswerHere):
    """Answers to ``/apikey`` where it was given (implements ``ApiKeyReplies``)."""

    def created(self, new: ak.NewKey, admin_chat_id: int) -> list[OutboundCall]:
        head = "✅ " + _("API key “{name}” created. Scopes: {scopes}").format(
            name=escape(new.record.name), scopes=", ".join(new.record.scopes)
        )
        secret = _(
            "🔑 API key “{name}”: <code>{key}</code>\n"
            "Send it as “Authorization: Bearer …”. It is shown this once: keep it private."
        ).format(name=escape(new.record.name), key=new.key)
        return self._with_secret(
            head, secret, admin_chat_id, _("The key was sent to you privately.")
        )

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


async def on_apikey(
    message: Message, command: CommandObject, uow: AbstractUnitOfWork, clock: Clock
) -> None:
    """``/apikey <create|list|revoke> ...``: one use case per subcommand."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    replies = ApiKeyTexts.to(message)
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
