"""The feed caches' data version: raised by writes to members and meetings only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Meeting, Member, Organiser
from scheduling.feeds.store import DATA_VERSION
from scheduling.meetings.lifecycle import create_meeting, set_link

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    DATA_VERSION.install()
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def versions() -> tuple[int, int]:
    return DATA_VERSION.members, DATA_VERSION.meetings


def moved(before: tuple[int, int]) -> tuple[bool, bool]:
    """(members moved, meetings moved) since `before`."""
    after = versions()
    return after[0] != before[0], after[1] != before[1]


async def test_each_kind_of_write_moves_only_its_own_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        before = versions()
        member = Member(telegram_id=1, locale="ru", name="M", registered_at=NOW)
        session.add(member)
        await session.commit()
        assert moved(before) == (True, False)

        before = versions()
        session.add(Organiser(telegram_id=77, added_by=1, added_at=NOW))
        await session.commit()
        assert moved(before) == (False, False)  # not in any feed

        before = versions()
        meeting = await create_meeting(session, NOW + timedelta(days=3), now=NOW)
        await session.commit()
        assert moved(before)[1]

        before = versions()
        await set_link(session, meeting, "https://meet.example.org/j/1", now=NOW)
        await session.commit()
        assert moved(before) == (False, True)

        before = versions()
        await session.execute(update(Member).where(Member.id == member.id).values(locale="en"))
        await session.commit()
        assert moved(before) == (True, False)

        before = versions()
        await session.execute(update(Meeting).values(theme="Чай"))
        await session.commit()
        assert moved(before) == (False, True)

        before = versions()
        await session.execute(text("UPDATE organisers SET added_by = 2"))
        await session.commit()
        assert moved(before) == (True, True)  # cannot tell which table: both


async def test_a_reader_between_write_and_commit_sees_a_stale_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(Member(telegram_id=2, locale="ru", name="M", registered_at=NOW))
        await session.flush()
        during = versions()
        await session.commit()
    assert versions()[0] != during[0]
