"""db/sqlite_loop.py: quick SQLite calls run on the event loop, and only calls that may wait
for the write lock go to aiosqlite's worker thread, so a wait never stops the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member
from db.sqlite_loop import LoopSideConnection, runs_in_place, statement_runs_in_place

pytestmark = pytest.mark.sqlite_only


def test_which_statements_run_in_place() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x INTEGER)")
    assert statement_runs_in_place("SELECT 1", connection)
    assert statement_runs_in_place("\n  select x FROM t", connection)
    # Outside a transaction a write would first have to take the lock: worker thread.
    for sql in ("INSERT INTO t VALUES (1)", "UPDATE t SET x = 2", "DELETE FROM t"):
        assert not statement_runs_in_place(sql, connection)
    for sql in ("PRAGMA journal_mode=WAL", "CREATE TABLE u (y)", "WITH a AS (SELECT 1) SELECT *"):
        assert not statement_runs_in_place(sql, connection)
    assert not statement_runs_in_place("", connection)
    assert not statement_runs_in_place(None, connection)

    connection.execute("INSERT INTO t VALUES (1)")  # the implicit BEGIN: the lock is held
    assert connection.in_transaction
    for sql in ("INSERT INTO t VALUES (2)", "update t set x = 3", "DELETE FROM t"):
        assert statement_runs_in_place(sql, connection)
    assert not statement_runs_in_place("CREATE TABLE u (y)", connection)
    connection.close()


def test_which_calls_run_in_place() -> None:
    connection = sqlite3.connect(":memory:")
    cursor = connection.cursor()
    for call in (cursor.fetchone, cursor.fetchmany, cursor.fetchall, cursor.close):
        assert runs_in_place(call, (), connection)
    for call in (connection.cursor, connection.commit, connection.rollback):
        assert runs_in_place(call, (), connection)
    assert runs_in_place(cursor.execute, ("SELECT 1",), connection)
    assert runs_in_place(connection.execute, ("SELECT 1", ()), connection)
    assert not runs_in_place(cursor.execute, ("INSERT INTO t VALUES (1)",), connection)
    assert not runs_in_place(cursor.executemany, ("SELECT 1", []), connection)
    assert not runs_in_place(cursor.executescript, ("SELECT 1;",), connection)
    assert not runs_in_place(connection.close, (), connection)
    # Another connection's methods, and plain functions, stay on the worker thread.
    other = sqlite3.connect(":memory:")
    assert not runs_in_place(other.commit, (), connection)
    assert not runs_in_place(print, (), connection)
    other.close()
    connection.close()


async def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    await upgrade_to_head(url)
    return create_engine(url)


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls that went to aiosqlite's worker thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_registration_makes_one_trip_to_the_worker_thread(
    tmp_path: Path, worker_calls: list[str]
) -> None:
    engine = await _engine(tmp_path)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:  # opens the pooled connection
            assert await session.scalar(select(func.count()).select_from(Member)) == 0
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, LoopSideConnection)

        worker_calls.clear()
        async with sessions() as session:
            session.add(Member(telegram_id=1, locale="en", name="Anna", zone="Asia/Harbin"))
            await session.commit()
        # Only the INSERT that takes the write lock; the cursor, the RETURNING rows, the
        # cursor's close and the COMMIT ran in place (each was a trip before).
        assert worker_calls == ["execute"]

        worker_calls.clear()
        async with sessions() as session:
            member = await session.scalar(select(Member).where(Member.telegram_id == 1))
            assert member is not None and member.name == "Anna"
            member.name = "Anna K."
            second = Member(telegram_id=2, locale="ru", name="Boris")
            session.add(second)
            await session.commit()
        # The SELECT ran in place; of the two writes only the first waits for the lock.
        assert worker_calls == ["execute"]
        async with sessions() as session:
            names = await session.scalars(select(Member.name).order_by(Member.telegram_id))
            assert list(names) == ["Anna K.", "Boris"]
    finally:
        await engine.dispose()


async def test_waiting_for_another_process_lock_does_not_stop_the_loop(tmp_path: Path) -> None:
    """Another process (a backup, the planning CLI) holds the write lock for a while: the
    bot's writer waits on aiosqlite's thread while the loop goes on serving updates."""
    engine = await _engine(tmp_path)
    sessions = create_session_factory(engine)
    other_process = sqlite3.connect(tmp_path / "club.sqlite3", isolation_level=None)
    try:
        async with sessions() as session:  # WAL mode is set when the bot's pool connects
            assert await session.scalar(select(func.count()).select_from(Member)) == 0
        other_process.execute("BEGIN IMMEDIATE")  # takes the write lock and keeps it
        other_process.execute("UPDATE members SET name = name")

        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())

        async def register() -> None:
            async with sessions() as session:
                session.add(Member(telegram_id=5, locale="zh", name="Li"))
                await session.commit()

        writer = asyncio.create_task(register())
        await asyncio.sleep(0.4)
        assert not writer.done()  # still waiting for the lock...
        assert ticks >= 10  # ...and the loop kept running meanwhile
        async with sessions() as session:  # a reader is not held up by either writer
            assert await session.scalar(select(func.count()).select_from(Member)) == 0
        other_process.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
        ticker.cancel()
        async with sessions() as session:
            assert await session.scalar(select(Member.name).where(Member.telegram_id == 5)) == "Li"
    finally:
        other_process.close()
        await engine.dispose()
