"""REST API keys and the idempotency records of their POST requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.apikeys import ApiKey
from storage.orm import ApiKeyRecord, IdempotencyRecord
from storage.ports.rows import StoredResponse

_KEYS = ApiKeyRecord.__table__.c
_BY_HASH = select(*_KEYS).where(_KEYS.key_hash == bindparam("key_hash"))


def _key_from(record: ApiKeyRecord | Row[Any]) -> ApiKey:
    return ApiKey(
        id=record.id,
        name=record.name,
        key_hash=record.key_hash,
        scopes=tuple(s for s in record.scopes.split(",") if s),
        created_by=record.created_by,
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
    )


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        record = ApiKeyRecord(
            name=key.name,
            key_hash=key.key_hash,
            scopes=",".join(key.scopes),
            created_by=key.created_by,
            created_at=key.created_at,
        )
        self.session.add(record)
        await self.session.flush()
        key.id = record.id
        return key

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash. Every API request asks: a plain row of a statement built
        once (an ORM record took longer to build than the database took to find it)."""
        row = (await self.session.execute(_BY_HASH, {"key_hash": key_hash})).first()
        return None if row is None else _key_from(row)

    async def active_named(self, name: str) -> ApiKey | None:
        row = await self.session.scalar(
            select(ApiKeyRecord).where(
                ApiKeyRecord.name == name, ApiKeyRecord.revoked_at.is_(None)
            )
        )
        return None if row is None else _key_from(row)

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        query = select(ApiKeyRecord).order_by(ApiKeyRecord.id)
        if not include_revoked:
            query = query.where(ApiKeyRecord.revoked_at.is_(None))
        return [_key_from(r) for r in (await self.session.scalars(query))]

    async def revoke(self, key_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(ApiKeyRecord)
            .where(ApiKeyRecord.id == key_id, ApiKeyRecord.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, key_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ApiKeyRecord).where(ApiKeyRecord.id == key_id).values(last_used_at=now)
        )


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, api_key_id: int, idempotency_key: str) -> StoredResponse | None:
        row = await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id,
                IdempotencyRecord.idempotency_key == idempotency_key,
            )
        )
        if row is None:
            return None
        return StoredResponse(row.fingerprint, row.status, row.body, row.created_at)

    async def claim(
        self, api_key_id: int, idempotency_key: str, fingerprint: str, now: datetime
    ) -> None:
        """Write the key's row in this transaction (read it with :meth:`get` first). Another
        transaction that wrote it meanwhile makes this raise ``IntegrityError`` (the unique
        pair); on SQLite writers are serialised, so that cannot happen there."""
        self.session.add(
            IdempotencyRecord(
                api_key_id=api_key_id,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                created_at=now,
            )
        )
        await self.session.flush()

    async def answer(self, api_key_id: int, idempotency_key: str, status: int, body: str) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.api_key_id == api_key_id,
                IdempotencyRecord.idempotency_key == idempotency_key,
            )
            .values(status=status, body=body)
        )

    async def forget(self, api_key_id: int, idempotency_key: str) -> None:
        """A request that failed before doing anything: let the key be used again."""
        await self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id,
                IdempotencyRecord.idempotency_key == idempotency_key,
            )
        )

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
