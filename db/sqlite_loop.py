"""aiosqlite connections that make SQLite's quick calls on the event loop itself.

aiosqlite runs every call on its own worker thread. On this kind of virtual machine each
hand-off to that thread and back costs 200-300 µs (two threads woken across CPUs), while the
call itself (a cursor, a fetch, an indexed SELECT, a one-row INSERT, the COMMIT of a WAL
transaction) takes a few µs. A registration press made five hand-offs; it now makes none.

The one thing that must never happen on the loop is a wait for SQLite's write lock, held by
another connection or process: the loop would stop, and if the holder is a coroutine of
this process, it could never finish. So, in WAL mode (where readers never wait):
- reads, fetches, cursors, COMMIT and ROLLBACK run in place;
- a write inside a transaction that already wrote runs in place (it holds the lock);
- the first write of a transaction tries in place with SQLite's busy timeout at zero; if
  the lock is taken it fails at once, having changed nothing, and goes to the worker thread,
  which waits for the lock as before;
- everything else (executemany, scripts, PRAGMAs, DDL, opening and closing) stays on the
  worker thread, and so does every call on a connection that is not in WAL mode.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any

import aiosqlite


class Placement(Enum):
    IN_PLACE = "in place"
    TRY_IN_PLACE = "in place unless it would wait for the write lock"
    WORKER = "on aiosqlite's worker thread"


_CURSOR_CALLS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})
_CONNECTION_CALLS = frozenset({"cursor", "commit", "rollback"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})


def _leading_keyword(sql: str) -> str:
    words = sql[:32].split(None, 1)
    return words[0].upper() if words else ""


def statement_placement(sql: object, connection: sqlite3.Connection) -> Placement:
    """A SELECT runs in place; a write does too once its transaction holds the lock."""
    if not isinstance(sql, str):
        return Placement.WORKER
    keyword = _leading_keyword(sql)
    if keyword == "SELECT":
        return Placement.IN_PLACE
    if keyword in _WRITES:
        # pysqlite opens the transaction at the first write, which takes the lock.
        return Placement.IN_PLACE if connection.in_transaction else Placement.TRY_IN_PLACE
    return Placement.WORKER


def placement(
    fn: Callable[..., Any], args: tuple[Any, ...], connection: sqlite3.Connection
) -> Placement:
    """Where an aiosqlite call on this sqlite3 connection should run."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        if name in _CURSOR_CALLS:
            return Placement.IN_PLACE
    elif owner is connection:
        if name in _CONNECTION_CALLS:
            return Placement.IN_PLACE
    else:
        return Placement.WORKER
    if name == "execute" and args:
        return statement_placement(args[0], connection)
    return Placement.WORKER


def is_lock_wait(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def call_without_waiting(connection: sqlite3.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    """Call with SQLite's busy timeout at zero: if the write lock is taken, fail at once."""
    (timeout,) = connection.execute("PRAGMA busy_timeout").fetchone()
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        return fn(*args)
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout)}")


class LoopSideConnection(aiosqlite.Connection):
    """An aiosqlite connection that sends to its worker thread only the calls that may wait."""

    # Set by the engine once the connection is in WAL mode; until then nothing runs in place.
    wal = False
    # Calls handed to the worker thread, and calls it has finished; each counter is written
    # by one thread only. While they differ, the worker may still be inside SQLite (even if
    # the coroutine that waited for it was cancelled), and a call made in place would wait
    # for SQLite's connection mutex on the loop's thread. So then everything queues behind.
    _handed_over = 0
    _finished = 0

    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        connection = self._connection
        if (
            self.wal
            and self._running
            and connection is not None
            and not kwargs
            and self._handed_over == self._finished
        ):
            where = placement(fn, args, connection)
            if where is Placement.IN_PLACE:
                return fn(*args)
            if where is Placement.TRY_IN_PLACE:
                try:
                    return call_without_waiting(connection, fn, *args)
                except sqlite3.OperationalError as error:
                    if not is_lock_wait(error):
                        raise
                    # Another writer holds the lock; the statement changed nothing. Wait
                    # for the lock on the worker thread, with the usual busy timeout.
        self._handed_over += 1
        return await super()._execute(self._counted, fn, *args, **kwargs)

    def _counted(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Runs on the worker thread."""
        try:
            return fn(*args, **kwargs)
        finally:
            self._finished += 1


def open_connection(database: str, **kwargs: Any) -> LoopSideConnection:
    """What aiosqlite.connect does, with the sqlite3 connection usable from both threads.

    The connection is opened on the worker thread and then also used on the loop's thread;
    the two never use it at the same time, because each call is awaited before the next.
    """
    kwargs["check_same_thread"] = False
    connection = LoopSideConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
    return connection
