"""db/sqlite_loop.py: quick SQLite calls run on the event loop, and only calls that may wait
for the write lock go to aiosqlite's worker thread, so a wait never stops the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member
from db.sqlite_loop import (
    LoopSideConnection,
    Placement,
    call_without_waiting,
    is_lock_wait,
    open_connection,
    placement,
    statement_placement,
)

pytestmark = pytest.mark.sqlite_only

IN_PLACE, TRY, WORKER = Placement.IN_PLACE, Placement.TRY_IN_PLACE, Placement.WORKER


def test_where_each_statement_runs() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x INTEGER)")
    assert statement_placement("SELECT 1", connection) is IN_PLACE
    assert statement_placement("\n  select x FROM t", connection) is IN_PLACE
    # Outside a transaction a write must first take the lock: tried without waiting.
    for sql in ("INSERT INTO t VALUES (1)", "UPDATE t SET x = 2", "delete FROM t"):
        assert statement_placement(sql, connection) is TRY
    for sql in ("PRAGMA journal_mode=WAL", "CREATE TABLE u (y)", "WITH a AS (SELECT 1) SELECT *"):
        assert statement_placement(sql, connection) is WORKER
    assert statement_placement("", connection) is WORKER
    assert statement_placement(None, connection) is WORKER

    connection.execute("INSERT INTO t VALUES (1)")  # the implicit BEGIN: the lock is held
    assert connection.in_transaction
    for sql in ("INSERT INTO t VALUES (2)", "update t set x = 3", "DELETE FROM t"):
        assert statement_placement(sql, connection) is IN_PLACE
    assert statement_placement("CREATE TABLE u (y)", connection) is WORKER
    connection.close()


def test_where_each_call_runs() -> None:
    connection = sqlite3.connect(":memory:")
    cursor = connection.cursor()
    for call in (cursor.fetchone, cursor.fetchmany, cursor.fetchall, cursor.close):
        assert placement(call, (), connection) is IN_PLACE
    for call in (connection.cursor, connection.commit, connection.rollback):
        assert placement(call, (), connection) is IN_PLACE
    assert placement(cursor.execute, ("SELECT 1",), connection) is IN_PLACE
    assert placement(connection.execute, ("SELECT 1", ()), connection) is IN_PLACE
    assert placement(cursor.execute, ("INSERT INTO t VALUES (1)",), connection) is TRY
    assert placement(cursor.executemany, ("INSERT INTO t VALUES (?)", []), connection) is WORKER
    assert placement(cursor.executescript, ("SELECT 1;",), connection) is WORKER
    assert placement(connection.close, (), connection) is WORKER
    assert placement(cursor.execute, (), connection) is WORKER
    # Another connection's methods, and plain functions, stay on the worker thread.
    other = sqlite3.connect(":memory:")
    assert placement(other.commit, (), connection) is WORKER
    assert placement(print, (), connection) is WORKER
    other.close()
    connection.close()


def test_a_write_that_would_wait_fails_at_once_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(path, timeout=5)
    started = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError) as raised:
        call_without_waiting(writer, writer.execute, "INSERT INTO t VALUES (1)")
    assert time.perf_counter() - started < 1  # not the five-second busy timeout
    assert is_lock_wait(raised.value)
    # The busy timeout is back, and the statement can be retried once the lock is free.
    assert writer.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    holder.execute("COMMIT")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)
    assert not is_lock_wait(sqlite3.OperationalError("no such table: u"))
    holder.close()
    writer.close()


async def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    await upgrade_to_head(url)
    return create_engine(url)


class LoopTicks:
    """Counts 10 ms ticks of the event loop: if the loop is blocked, the count stops."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.count += 1

    def stop(self) -> None:
        self._task.cancel()


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls that went to aiosqlite's worker thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # LoopSideConnection hands over its own wrapper with the real call as first argument.
        real = args[0] if getattr(fn, "__name__", "") == "_counted" else fn
        calls.append(getattr(real, "__name__", repr(real)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_registration_makes_no_trip_to_the_worker_thread(
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
            assert raw.driver_connection.wal

        worker_calls.clear()
        async with sessions() as session:
            session.add(Member(telegram_id=1, locale="en", name="Anna", zone="Asia/Harbin"))
            await session.commit()
        # The cursor, the INSERT (nobody else held the lock), its RETURNING rows, the
        # cursor's close and the COMMIT all ran in place; each was a trip before.
        assert worker_calls == []

        worker_calls.clear()
        async with sessions() as session:
            member = await session.scalar(select(Member).where(Member.telegram_id == 1))
            assert member is not None and member.name == "Anna"
            member.name = "Anna K."
            second = Member(telegram_id=2, locale="ru", name="Boris")
            session.add(second)
            await session.commit()
        assert worker_calls == []
        async with sessions() as session:
            names = await session.scalars(select(Member.name).order_by(Member.telegram_id))
            assert list(names) == ["Anna K.", "Boris"]
    finally:
        await engine.dispose()


async def test_waiting_for_another_process_lock_does_not_stop_the_loop(
    tmp_path: Path, worker_calls: list[str]
) -> None:
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

        ticks = LoopTicks()

        async def register() -> None:
            async with sessions() as session:
                session.add(Member(telegram_id=5, locale="zh", name="Li"))
                await session.commit()

        writer = asyncio.create_task(register())
        await asyncio.sleep(0.4)
        assert not writer.done()  # still waiting for the lock...
        assert ticks.count >= 10  # ...and the loop kept running meanwhile
        async with sessions() as session:  # a reader is not held up by either writer
            assert await session.scalar(select(func.count()).select_from(Member)) == 0
        other_process.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
        assert "execute" in worker_calls  # the INSERT waited on the worker thread
        ticks.stop()
        async with sessions() as session:
            assert await session.scalar(select(Member.name).where(Member.telegram_id == 5)) == "Li"
    finally:
        other_process.close()
        await engine.dispose()


async def test_a_connection_not_in_wal_mode_keeps_every_call_on_the_worker(
    worker_calls: list[str],
) -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")  # journal mode "memory"
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, LoopSideConnection)
            assert not raw.driver_connection.wal
            worker_calls.clear()
            assert await connection.scalar(text("SELECT 41 + 1")) == 42
            assert "execute" in worker_calls and "close" in worker_calls
    finally:
        await engine.dispose()


async def test_while_the_worker_is_inside_sqlite_nothing_runs_in_place(tmp_path: Path) -> None:
    """A write waits for another process's lock on the worker thread, and the coroutine that
    awaited it is cancelled (a timeout, a shutdown). The worker is still inside SQLite, so the
    ROLLBACK that follows must queue behind it there, not wait on the loop's thread."""
    path = tmp_path / "busy.sqlite3"
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("PRAGMA journal_mode=WAL")
    other_process.execute("CREATE TABLE t (x INTEGER)")
    connection = await open_connection(str(path))
    try:
        connection.wal = True
        other_process.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(connection.execute("INSERT INTO t VALUES (1)"))
        await asyncio.sleep(0.1)  # tried in place, failed at once, now waiting on the worker
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write

        ticks = LoopTicks()
        rollback = asyncio.create_task(connection.rollback())
        await asyncio.sleep(0.3)
        assert not rollback.done()  # queued behind the waiting INSERT...
        assert ticks.count >= 10  # ...while the loop went on
        other_process.execute("COMMIT")
        await asyncio.wait_for(rollback, 5)
        ticks.stop()
        # The INSERT went through once the lock was free, and the rollback undid it.
        assert await (await connection.execute("SELECT count(*) FROM t")).fetchall() == [(0,)]
    finally:
        await connection.close()
        other_process.close()
