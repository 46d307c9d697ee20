"""Engine and session factory for the configured database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from db.member_cache import (
    WRITER_LOCK,
    Announcer,
    MemberCache,
    TrackingSession,
    tracking_session_class,
)
from db.sqlite_loop import LoopSideConnection, open_connection


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    _ensure_sqlite_folder(url)
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(
        url,
        pool_pre_ping=not sqlite,
        # SQLite: the pool's own rollback on return is replaced by the listener below.
        pool_reset_on_return=None if sqlite else "rollback",
    )
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "do_connect")
        def _connect_loop_side(dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
            # aiosqlite's connection, but the quick calls skip its worker thread (see
            # db/sqlite_loop.py); SQLAlchemy wraps it as it wraps its own.
            return dialect.dbapi.connect(*cargs, async_creator_fn=open_connection, **cparams)

        @event.listens_for(engine.sync_engine, "reset")
        def _rollback_if_open(_dbapi_connection, record, reset_state) -> None:  # type: ignore[no-untyped-def]
            # After a commit, or the session's own rollback, the connection is clean, and
            # another rollback would be one more hop to aiosqlite's thread for every
            # database session. Roll back only a transaction that is still open.
            if reset_state.terminate_only:
                return
            driver = record.driver_connection  # the aiosqlite connection
            if driver is None or driver.in_transaction:
                record.dbapi_connection.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the feed and the delivery tick read while a handler writes;
            # foreign keys make ON DELETE CASCADE work (needed by /forget).
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted content is zeroed, not left in free pages (a /forget must leave no
            # readable trace), whatever this SQLite build's default.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            (journal_mode,) = cursor.fetchone()
            if isinstance(record.driver_connection, LoopSideConnection):
                # Readers never wait in WAL mode, so quick calls may skip the worker thread.
                record.driver_connection.wal = str(journal_mode).lower() == "wal"
            cursor.execute("PRAGMA busy_timeout=5000")
            # In WAL mode NORMAL survives a killed process (only a power cut can lose the
            # last commits) and saves an fsync per delivered message.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def create_session_factory(
    engine: AsyncEngine,
    member_cache: MemberCache | None = None,
    announcer: Announcer | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep the member cache (if any) in step with what they commit."""
    info: dict[str, object] = {}
    if member_cache is not None:
        info = {"member_cache": member_cache, "member_cache_announce": announcer}
    if engine.dialect.name == "sqlite":
        info[WRITER_LOCK] = asyncio.Lock()
    return async_sessionmaker(
        engine,
        class_=TrackingSession,
        sync_session_class=tracking_session_class(),
        expire_on_commit=False,
        info=info,
    )


def member_cache_of(factory: async_sessionmaker[AsyncSession]) -> MemberCache | None:
    """The member cache the factory's sessions keep in step, if any."""
    cache = factory.kw.get("info", {}).get("member_cache")
    return cache if isinstance(cache, MemberCache) else None
