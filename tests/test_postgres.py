"""What only PostgreSQL does for several instances: migrations serialised by an advisory
lock, and outbox claims that never hand one row to two senders (SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member, OutboxMessage
from delivery.outbox import claim_due

pytestmark = pytest.mark.postgres


async def test_instances_starting_together_migrate_once(database_url: str) -> None:
    await asyncio.gather(*(upgrade_to_head(database_url) for _ in range(3)))
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        assert list(await session.scalars(select(Member))) == []
    await engine.dispose()


async def test_concurrent_claims_are_disjoint(database_url: str) -> None:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    now = datetime.now(UTC)
    async with factory() as session:
        members = [Member(telegram_id=i, locale="ru") for i in range(300)]
        session.add_all(members)
        await session.flush()
        session.add_all(
            OutboxMessage(member_id=m.id, kind="broadcast:1", due_at=now - timedelta(seconds=1))
            for m in members
        )
        await session.commit()

    async def sender() -> list[int]:
        taken: list[int] = []
        while True:
            async with factory() as session:
                ids = await claim_due(session, now, limit=7)
                await session.commit()  # the claim holds once committed, as in the tick
            if not ids:
                return taken
            taken += ids

    claims = await asyncio.gather(*(sender() for _ in range(6)))
    await engine.dispose()
    every = [row for claim in claims for row in claim]
    assert len(every) == 300 == len(set(every))
