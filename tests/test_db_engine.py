"""db/engine.py on SQLite: a connection goes back to the pool without a needless rollback,
but a transaction someone left open is still rolled back; writers queue for SQLite's one
write lock instead of sleeping in its busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member

pytestmark = pytest.mark.sqlite_only


async def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    await upgrade_to_head(url)
    return create_engine(url)


async def test_a_committed_session_returns_its_connection_without_a_rollback(
    tmp_path: Path,
) -> None:
    engine = await _engine(tmp_path)
    rollbacks: list[str] = []
    event.listen(engine.sync_engine, "rollback", lambda _conn: rollbacks.append("rollback"))
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            session.add(Member(telegram_id=1, locale="en", name="Anna"))
            await session.commit()
        async with sessions() as session:
            assert await session.scalar(select(Member.name)) == "Anna"
        # The read-only session rolls back its own transaction once; the commit needs none.
        assert rollbacks == ["rollback"]
    finally:
        await engine.dispose()


async def test_a_transaction_left_open_is_rolled_back_on_return(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            # Written behind SQLAlchemy's back, so only the pool's reset can undo it.
            await driver.execute(
                "INSERT INTO members (telegram_id, locale, hours_start, hours_end, reachable,"
                " reminders, memoir_prompts, created_at, updated_at)"
                " VALUES (7, 'en', 540, 1260, 1, '', 1, '2027-01-01', '2027-01-01')"
            )
            assert driver.in_transaction
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM members"))
            assert count == 0
            # And nothing holds the write lock: another write goes through at once.
            await connection.execute(text("PRAGMA busy_timeout = 100"))
            await connection.execute(text("UPDATE members SET name = 'x' WHERE telegram_id = 0"))
            await connection.commit()
    finally:
        await engine.dispose()


async def test_concurrent_commits_queue_instead_of_sleeping(tmp_path: Path) -> None:
    """Thirty writers at once: each commits, none meets "database is locked"."""
    engine = await _engine(tmp_path)
    sessions = create_session_factory(engine)

    async def register(telegram_id: int) -> None:
        async with sessions() as session:
            session.add(Member(telegram_id=telegram_id, locale="en"))
            await session.commit()

    try:
        await asyncio.wait_for(asyncio.gather(*(register(i) for i in range(1, 31))), 20)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Member)) == 30
    finally:
        await engine.dispose()


async def test_a_writer_that_flushed_early_does_not_wait_for_the_queue(tmp_path: Path) -> None:
    """A holds SQLite's write lock since its flush; B waits for SQLite inside the queue.
    A's commit must not wait for the queue, or neither would ever finish."""
    engine = await _engine(tmp_path)
    sessions = create_session_factory(engine)
    try:
        first = sessions()
        first.add(Member(telegram_id=1, locale="en"))
        await first.flush()  # BEGIN + INSERT: SQLite's write lock is held from here
        first.add(Member(telegram_id=3, locale="en"))  # more to write at its commit
        second = sessions()
        second.add(Member(telegram_id=2, locale="en"))
        queued = asyncio.create_task(second.commit())
        await asyncio.sleep(0.05)  # B is in the queue, waiting for SQLite
        await asyncio.wait_for(first.commit(), 3)
        await asyncio.wait_for(queued, 6)
        await first.close()
        await second.close()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Member)) == 3
    finally:
        await engine.dispose()
