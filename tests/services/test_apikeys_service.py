"""REST API keys (bot.services.apikeys): admins create, list and revoke them with /apikey."""

from __future__ import annotations

import pytest

from bot.services import apikeys
from models import InvalidInput, NotAllowed
from models import apikeys as ak
from models.delivery import OutboundCall
from tests.support.fake_uow import FakeDatabase
from tests.support.services import ADA, BOB, T0, answer, store_staff


class Replies:
    """The ApiKeyReplies port: one call per answer, naming it and what it is about."""

    def created(self, new: ak.NewKey, admin_chat_id: int) -> list[OutboundCall]:
        return answer("created", admin_chat_id, key=new.key)

    def listed(self, keys: list[ak.ApiKey]) -> list[OutboundCall]:
        return answer("listed", ADA.id, names=[k.name for k in keys])

    def revoked(self, key: ak.ApiKey) -> list[OutboundCall]:
        return answer("revoked", ADA.id, name=key.name)

    def not_found(self, name: str) -> list[OutboundCall]:
        return answer("not_found", ADA.id, name=name)

    def usage(self) -> list[OutboundCall]:
        return answer("usage", ADA.id)


@pytest.fixture(autouse=True)
async def staff(db: FakeDatabase) -> None:
    await store_staff(db)


def answers(db: FakeDatabase) -> list[dict[str, object]]:
    return [c.params for c in db.outbox]


async def test_a_key_is_shown_once_stored_hashed_listed_and_revoked(db: FakeDatabase) -> None:
    async with db.uow() as uow:
        new = await apikeys.add_by_admin(
            uow, Replies(), ADA, "crm", "tickets:write tickets:read", T0
        )
    (created,) = answers(db)
    assert (created["is"], created["key"]) == ("created", new.key)
    async with db.uow() as uow:
        stored = await uow.apikeys.by_hash(ak.hash_key(new.key))
    assert (stored.name, stored.scopes, stored.created_by) == (
        "crm",
        ("tickets:read", "tickets:write"),
        1,
    )
    async with db.uow() as uow:
        assert [k.name for k in await apikeys.list_by_admin(uow, Replies(), ADA, T0)] == ["crm"]
        assert await apikeys.revoke_by_admin(uow, Replies(), ADA, "crm", T0)
        assert not await apikeys.revoke_by_admin(uow, Replies(), ADA, "crm", T0)
    assert [a["is"] for a in answers(db)] == ["created", "listed", "revoked", "not_found"]
    async with db.uow() as uow:
        assert await uow.apikeys.list() == []
        (revoked,) = await uow.apikeys.list(include_revoked=True)
    assert revoked.revoked_at == T0


async def test_a_name_in_service_is_taken_until_revoked(db: FakeDatabase) -> None:
    async with db.uow() as uow:
        await apikeys.add_by_admin(uow, Replies(), ADA, "crm", "tickets:read", T0)
        with pytest.raises(InvalidInput, match="is taken"):
            await apikeys.create_key(uow, "crm", "tickets:read", T0)
        await apikeys.revoke_key(uow, "crm", T0)
        await apikeys.create_key(uow, "crm", "tickets:read", T0)
        await uow.commit()
    async with db.uow() as uow:
        assert len(await uow.apikeys.list(include_revoked=True)) == 2


@pytest.mark.parametrize(
    ("name", "scopes", "reason"),
    [("has space", "tickets:read", "no spaces"), ("crm", "everything", "expected")],
)
async def test_bad_names_and_scopes_are_refused(
    db: FakeDatabase, name: str, scopes: str, reason: str
) -> None:
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match=reason):
            await apikeys.add_by_admin(uow, Replies(), ADA, name, scopes, T0)
    assert db.outbox == []


async def test_only_admins(db: FakeDatabase) -> None:
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await apikeys.add_by_admin(uow, Replies(), BOB, "crm", "tickets:read", T0)
        with pytest.raises(NotAllowed):
            await apikeys.list_by_admin(uow, Replies(), BOB, T0)
    assert db.outbox == []
