"""aiosqlite connections that make SQLite's quick, lock-free calls on the event loop itself.

aiosqlite runs every call on its own worker thread. On this kind of virtual machine each
hand-off to that thread and back costs 150-250 µs, while the call itself (a cursor, a fetch,
an indexed SELECT, the COMMIT of a WAL transaction) takes a few µs. A registration press made
five hand-offs; it now makes one.

A call stays on the worker thread when it may wait for SQLite's write lock, because a wait
there must not stop the event loop: the first write of a transaction (it takes the lock),
executemany and scripts, PRAGMAs, DDL, opening and closing the connection. In WAL mode a
reader never waits for a writer, and a transaction that already wrote holds the lock, so
the rest is safe to run in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

# Calls on a sqlite3 cursor or connection that never wait for a lock.
_CURSOR_CALLS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})
_CONNECTION_CALLS = frozenset({"cursor", "commit", "rollback"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})


def _leading_keyword(sql: str) -> str:
    return sql.lstrip()[:8].split(None, 1)[0].upper() if sql.strip() else ""


def statement_runs_in_place(sql: object, connection: sqlite3.Connection) -> bool:
    """A SELECT, or a write inside a transaction that already holds the write lock."""
    if not isinstance(sql, str):
        return False
    keyword = _leading_keyword(sql)
    if keyword == "SELECT":
        return True
    return keyword in _WRITES and connection.in_transaction


def runs_in_place(
    fn: Callable[..., Any], args: tuple[Any, ...], connection: sqlite3.Connection
) -> bool:
    """Whether this aiosqlite call can run on the event loop without waiting for a lock."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        if name in _CURSOR_CALLS:
            return True
        return name == "execute" and bool(args) and statement_runs_in_place(args[0], connection)
    if owner is connection:
        if name in _CONNECTION_CALLS:
            return True
        return name == "execute" and bool(args) and statement_runs_in_place(args[0], connection)
    return False


class LoopSideConnection(aiosqlite.Connection):
    """An aiosqlite connection that keeps its worker thread only for calls that may wait."""

    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        connection = self._connection
        if self._running and connection is not None and runs_in_place(fn, args, connection):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def open_connection(database: str, **kwargs: Any) -> LoopSideConnection:
    """What aiosqlite.connect does, with the sqlite3 connection usable from both threads.

    The connection is opened on the worker thread and then also used on the loop's thread;
    the two never use it at the same time, because each call is awaited before the next.
    """
    kwargs["check_same_thread"] = False
    connection = LoopSideConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
    return connection
