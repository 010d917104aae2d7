"""/apikey create|list|revoke for admins: the key shown once, by direct message."""

from __future__ import annotations

from models import apikeys as ak
from tests.bot.test_webhook_commands import bot_texts, command
from tests.support.desk import Desk, register


async def stored(desk: Desk) -> list[ak.ApiKey]:
    async with desk.uow_factory() as uow:
        return await uow.apikeys.list(include_revoked=True)


async def test_in_the_group_the_key_goes_to_the_admin_privately(desk: Desk) -> None:
    answer = await command(desk, "/apikey create crm tickets:read,tickets:write")
    assert "API key “crm” created" in answer
    assert "tickets:read, tickets:write" in answer
    assert "sent to you privately" in answer
    [key] = await stored(desk)
    assert key.scopes == (ak.TICKETS_READ, ak.TICKETS_WRITE)
    [private] = desk.texts_to(desk.admin)
    plain = [t for t in private.split() if t.startswith(ak.KEY_PREFIX)]
    assert plain, private
    assert ak.hash_key(plain[0]) == key.key_hash
    assert not any(plain[0] in t for t in bot_texts(desk, desk.group_id))


async def test_list_and_revoke(desk: Desk) -> None:
    assert "No API keys yet" in await command(desk, "/apikey list", private=True)
    await command(desk, "/apikey create crm stats:read", private=True)
    listed = await command(desk, "/apikey list", private=True)
    assert "crm: stats:read (never used)" in listed
    assert "revoked" in await command(desk, "/apikey revoke crm", private=True)
    [key] = await stored(desk)
    assert key.revoked_at is not None
    assert "There is no API key “crm”" in await command(desk, "/apikey revoke crm", private=True)


async def test_bad_scopes_are_refused_and_usage_is_shown(desk: Desk) -> None:
    answer = await command(desk, "/apikey create crm tickets:delete")
    assert "tickets:delete" in answer
    assert await stored(desk) == []
    assert "/apikey create <name>" in await command(desk, "/apikey create crm")


async def test_agents_may_not(desk: Desk) -> None:
    bob = await register(desk, "Bob")
    answer = await command(desk, "/apikey list", user=bob)
    assert "Only admins may use /apikey." in answer
