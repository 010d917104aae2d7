"""Use cases of REST API keys: admins create, list and revoke them (``/apikey`` and the CLI);
the API authenticates its callers with them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.logs import get_logger
from bot.services.auth import audit, require_agent
from bot.services.customers import tell
from bot.services.ports import TelegramUser
from models import InvalidInput, NotFound, Role
from models import apikeys as ak
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork

_audit = get_logger("bot.audit")


class KeyNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no API key named {name!r}")
        self.name = name


class ApiKeyReplies(Protocol):
    """Renders the answers to ``/apikey`` (implemented next to the handler)."""

    def created(self, new: ak.NewKey, admin_chat_id: int) -> list[OutboundCall]: ...

    def listed(self, keys: list[ak.ApiKey]) -> list[OutboundCall]: ...

    def revoked(self, key: ak.ApiKey) -> list[OutboundCall]: ...

    def not_found(self, name: str) -> list[OutboundCall]: ...

    def usage(self) -> list[OutboundCall]: ...


async def create_key(
    uow: AbstractUnitOfWork, name: str, scopes: str, now: datetime, created_by: int | None = None
) -> ak.NewKey:
    """A new key (the caller commits); a name is unique among the keys in service."""
    key_name = ak.parse_name(name)
    key_scopes = ak.parse_scopes(scopes)
    if await uow.apikeys.active_named(key_name) is not None:
        raise InvalidInput("name", key_name, "is taken by a key in service; revoke it first")
    new = ak.new_key(key_name, key_scopes, now, created_by)
    await uow.apikeys.add(new.record)
    return new


async def revoke_key(uow: AbstractUnitOfWork, name: str, now: datetime) -> ak.ApiKey:
    """Take a key out of service at once (the caller commits)."""
    key = await uow.apikeys.active_named(name.strip())
    if key is None or key.id is None:
        raise KeyNotFound(name.strip())
    await uow.apikeys.revoke(key.id, now)
    key.revoked_at = now
    return key


def audit_by(by: str, action: str, **details: object) -> None:
    """An audit line for a change not made by a Telegram user: ``by`` is ``cli`` or
    ``api:<key name>``."""
    _audit.info("configuration changed", action=action, by=by, **details)


# -- /apikey -----------------------------------------------------------------------------------


async def add_by_admin(
    uow: AbstractUnitOfWork,
    replies: ApiKeyReplies,
    user: TelegramUser,
    name: str,
    scopes: str,
    now: datetime,
) -> ak.NewKey:
    """``/apikey create``: the key itself goes to the admin's private chat only."""
    admin = await require_agent(uow, user, Role.ADMIN)
    new = await create_key(uow, name, scopes, now, created_by=admin.id)
    # A private chat's id is the user's id.
    await tell(uow, replies.created(new, admin_chat_id=user.id), now)
    audit("api key created", user, key=new.record.name, scopes=",".join(new.record.scopes))
    return new


async def list_by_admin(
    uow: AbstractUnitOfWork, replies: ApiKeyReplies, user: TelegramUser, now: datetime
) -> list[ak.ApiKey]:
    await require_agent(uow, user, Role.ADMIN)
    keys = await uow.apikeys.list()
    await tell(uow, replies.listed(keys), now)
    return keys


async def revoke_by_admin(
    uow: AbstractUnitOfWork, replies: ApiKeyReplies, user: TelegramUser, name: str, now: datetime
) -> bool:
    await require_agent(uow, user, Role.ADMIN)
    try:
        key = await revoke_key(uow, name, now)
    except KeyNotFound:
        await tell(uow, replies.not_found(name), now)
        return False
    await tell(uow, replies.revoked(key), now)
    audit("api key revoked", user, key=key.name)
    return True


async def usage(
    uow: AbstractUnitOfWork, replies: ApiKeyReplies, user: TelegramUser, now: datetime
) -> None:
    await require_agent(uow, user, Role.ADMIN)
    await tell(uow, replies.usage(), now)
