"""The desk's integrations, for admins (group or private chat): ``/webhook add|list|remove|test``
(outgoing webhooks) and ``/apikey create|list|revoke`` (REST API keys)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import HandlerContext
from bot.filters import desk_command
from bot.handlers.admin.replies import AnswerHere
from bot.services import apikeys, webhooks
from models import apikeys as ak
from models import webhooks as wh
from models.delivery import OutboundCall


class WebhookTexts(AnswerHere):
    """Answers to ``/webhook`` where it was given (implements ``WebhookReplies``)."""

    def added(self, webhook: wh.Webhook, admin_chat_id: int) -> list[OutboundCall]:
        head = "✅ " + _("Webhook #{id} added: {url}\nEvents: {events}").format(
            id=webhook.id, url=escape(webhook.url), events=", ".join(webhook.events)
        )
        secret = _(
            "🔑 Signing secret of webhook #{id}: <code>{secret}</code>\n"
            "Check X-Helpdesk-Signature with it, and keep it private."
        ).format(id=webhook.id, secret=webhook.secret)
        return self._with_secret(
            head, secret, admin_chat_id, _("The secret was sent to you privately.")
        )

    def listed(
        self, webhooks: list[wh.Webhook], stats: dict[int, wh.DeliveryStats]
    ) -> list[OutboundCall]:
        if not webhooks:
            return [self._here(escape(_("No webhooks yet. Add one with /webhook add <url>.")))]
        lines = ["🔗 <b>" + _("Webhooks") + "</b>"]
        for webhook in webhooks:
            s = stats.get(webhook.id or 0, wh.DeliveryStats())
            lines.append(
                f"#{webhook.id} {escape(webhook.url)}\n  "
                + ", ".join(webhook.events)
                + "\n  "
                + _("delivered {sent}, waiting {pending}, failed {failed}").format(
                    sent=s.sent, pending=s.pending, failed=s.failed
                )
            )
            if s.last_error:
                lines.append("  " + _("last error: {error}").format(error=escape(s.last_error)))
        return [self._here("\n".join(lines))]

    def removed(self, webhook_id: int) -> list[OutboundCall]:
        return [
            self._here(
                "🗑 "
                + _("Webhook #{id} removed; deliveries still queued for it are dropped.").format(
                    id=webhook_id
                )
            )
        ]

    def test_queued(self, webhook: wh.Webhook) -> list[OutboundCall]:
        return [
            self._here(
                "📨 "
                + _(
                    "A ping event is on its way to webhook #{id}; /webhook list shows how it went."
                ).format(id=webhook.id)
            )
        ]

    def not_found(self, ref: str) -> list[OutboundCall]:
        return [
            self._here(
                _("There is no webhook “{ref}”. /webhook list shows them.").format(
                    ref=escape(ref[:50])
                )
            )
        ]

    def usage(self) -> list[OutboundCall]:
        return [
            self._here(
                escape(
                    _(
                        "Usage:\n/webhook add <url> [event,event…]\n/webhook list\n"
                        "/webhook remove <id>\n/webhook test <id>\n"
                        "Events: {events}. Without a list: all but {note}."
                    )
                ).format(events=", ".join(wh.EVENT_TYPES), note=wh.NOTE)
            )
        ]


async def on_webhook(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/webhook <add|list|remove|test> ...``: one use case per subcommand."""
    uow, user, now, replies = ctx.uow, ctx.actor, ctx.now(), WebhookTexts.to(message)
    sub, _sep, rest = (command.args or "").strip().partition(" ")
    args = rest.split()
    match sub.lower(), len(args):
        case "add", n if n >= 1:
            events = " ".join(args[1:]) or None  # "a,b" or "a, b"
            await webhooks.add_webhook(uow, replies, user, args[0], events, now)
        case "list", 0:
            await webhooks.list_webhooks(uow, replies, user, now)
        case "remove", 1:
            await webhooks.remove_webhook(uow, replies, user, args[0], now)
        case "test", 1:
            await webhooks.ping_webhook(uow, replies, user, args[0], now)
        case _:
            await webhooks.usage(uow, replies, user, now)


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


async def on_apikey(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/apikey <create|list|revoke> ...``: one use case per subcommand."""
    uow, user, now, replies = ctx.uow, ctx.actor, ctx.now(), ApiKeyTexts.to(message)
    sub, _sep, rest = (command.args or "").strip().partition(" ")
    args = rest.split()
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
    router.message.register(on_webhook, *desk_command("webhook"))
    router.message.register(on_apikey, *desk_command("apikey"))
    return router
