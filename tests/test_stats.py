"""Organisers' figures: member breakdown and pages, RSVPs and reminders per meeting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member, OutboxMessage
from db.stats import member_breakdown, member_page, recent_meeting_stats
from scheduling.meetings.lifecycle import cancel_meeting, create_meeting, record_rsvp

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def _member(n: int, country: str | None, zone: str | None, **kw: object) -> Member:
    return Member(
        telegram_id=1000 + n,
        locale="en",
        name=kw.pop("name", f"Member {n:02d}"),
        country=country,
        zone=zone,
        city=kw.pop("city", None),
        registered_at=kw.pop("registered_at", NOW),
        reachable=kw.pop("reachable", True),
    )


async def test_empty_club(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        breakdown = await member_breakdown(session)
        page = await member_page(session, 3)
        assert await recent_meeting_stats(session) == []
    assert breakdown.total == 0 and breakdown.by_country == [] and breakdown.by_zone == []
    assert page.rows == [] and page.page == 0 and page.pages == 1


async def test_breakdown_counts_registered_members_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add_all(
            [
                _member(1, "RU", "Europe/Moscow"),
                _member(2, "RU", "Asia/Vladivostok"),
                _member(3, "RU", "Europe/Moscow"),
                _member(4, "CN", "Asia/Shanghai"),
                _member(5, None, None),
                _member(6, "AU", "Australia/Sydney", registered_at=None),  # never finished
            ]
        )
        await session.commit()
        breakdown = await member_breakdown(session)
    assert breakdown.total == 5
    # Ties keep a fixed order (SQLite sorts NULL first); the chat shows "—" for it.
    assert breakdown.by_country == [("RU", 3), (None, 1), ("CN", 1)]
    assert breakdown.by_zone[0] == ("Europe/Moscow", 2)
    assert sum(n for _, n in breakdown.by_zone) == 5


async def test_pages_of_ten_by_name_and_clamped(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        session.add_all(_member(n, "RU", "Europe/Moscow") for n in range(23))
        session.add(_member(99, "CN", "Asia/Shanghai", name="aaa first", reachable=False))
        await session.commit()
        first = await member_page(session, 0)
        last = await member_page(session, 2)
        beyond = await member_page(session, 7)
        before = await member_page(session, -1)
    assert first.total == 24 and first.pages == 3 and len(first.rows) == 10
    assert first.rows[0].name == "aaa first" and first.rows[0].reachable is False
    assert first.rows[1].name == "Member 00"
    assert len(last.rows) == 4 and last.rows[-1].name == "Member 22"
    assert beyond.page == 2 and beyond.rows == last.rows
    assert before.page == 0


async def test_meeting_stats_rsvps_silence_and_delivered_reminders(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        members = [_member(n, "RU", "Europe/Moscow") for n in range(5)]
        session.add_all(members)
        await session.commit()
        old = await create_meeting(session, NOW + timedelta(days=3), now=NOW)
        await session.commit()
        await record_rsvp(session, old, members[0], "yes", now=NOW)
        await session.commit()
        await record_rsvp(session, old, members[1], "yes", now=NOW)
        await session.commit()
        await record_rsvp(session, old, members[2], "maybe", now=NOW)
        await session.commit()
        await record_rsvp(session, old, members[3], "no", now=NOW)
        await session.commit()
        # Two 1-day reminders went out (the rest are unsent or dropped).
        sent_ids = list(
            await session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.meeting_id == old.id, OutboxMessage.kind == "remind:1d")
                .limit(2)
            )
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids)).values(sent_at=NOW)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.meeting_id == old.id, OutboxMessage.kind == "announce")
            .values(sent_at=NOW)  # announcements are not reminders
        )
        await session.commit()
        await cancel_meeting(session, old, "snow", now=NOW)
        await session.commit()
        newer = await create_meeting(session, NOW + timedelta(days=10), now=NOW)
        await session.commit()
        await record_rsvp(session, newer, members[4], "maybe", now=NOW)
        await session.commit()
        stats = await recent_meeting_stats(session)
    assert [s.meeting_id for s in stats] == [newer.id, old.id]  # newest first
    latest, earlier = stats
    assert (earlier.yes, earlier.maybe, earlier.no, earlier.no_answer) == (2, 1, 1, 1)
    assert earlier.reminders_delivered == 2 and earlier.status == "cancelled"
    assert (latest.yes, latest.maybe, latest.no, latest.no_answer) == (0, 1, 0, 4)
    assert latest.reminders_delivered == 0


async def test_only_the_latest_six_meetings(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        for month in range(8):
            await create_meeting(session, NOW + timedelta(days=1 + 30 * month), now=NOW)
            await session.commit()
        stats = await recent_meeting_stats(session)
    assert len(stats) == 6
    assert stats[0].starts_at == NOW + timedelta(days=1 + 30 * 7)
    assert stats == sorted(stats, key=lambda s: s.starts_at, reverse=True)
