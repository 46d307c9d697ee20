"""bot/middlewares.SpareSessions: an update's unused database session serves the next update;
a session that was used in any way is closed and never handed out again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from db.engine import create_engine, create_session_factory
from db.member_cache import MemberCache
from db.migrate import upgrade_to_head
from db.models import Member
from handlers.middlewares import SpareSessions


async def test_only_untouched_sessions_are_handed_out_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = SpareSessions(create_session_factory(engine, MemberCache()), keep=2)
    try:
        untouched = sessions.take()
        await sessions.give_back(untouched)
        assert sessions.take() is untouched  # nothing happened to it: as good as new

        # Read: it has a transaction and a loaded row.
        writer = sessions.take()
        writer.add(Member(telegram_id=1, locale="en", name="Anna"))
        await writer.commit()
        assert await writer.scalar(select(Member.name)) == "Anna"
        await sessions.give_back(writer)
        # Only added, never flushed.
        adder = sessions.take()
        adder.add(Member(telegram_id=2, locale="ru"))
        await sessions.give_back(adder)
        # Marked through its info by some handler.
        marked = sessions.take()
        marked.info["note"] = "left by a handler"
        await sessions.give_back(marked)
        for used in (writer, adder, marked):
            assert sessions.take() is not used
        # The added member was never written: closing the session discarded it.
        async with create_session_factory(engine)() as check:
            assert list(await check.scalars(select(Member.telegram_id))) == [1]

        # No more than `keep` spares are held.
        spares = [sessions.take() for _ in range(3)]
        for spare in spares:
            await sessions.give_back(spare)
        assert len({id(sessions.take()) for _ in range(2)} & {id(s) for s in spares}) == 2
        assert sessions.take() not in spares
    finally:
        await engine.dispose()
