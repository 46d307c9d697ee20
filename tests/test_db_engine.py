"""db/engine.py on SQLite: a connection goes back to the pool without a needless rollback,
but a transaction someone left open is still rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, select, text

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
