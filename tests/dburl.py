"""A fresh database per test: SQLite in tmp_path, or, with TEST_DATABASE_URL (a server URL
such as postgresql+asyncpg://postgres@127.0.0.1:55432/harbin), a uniquely named
PostgreSQL database created for the test and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

ENV = "TEST_DATABASE_URL"


def server_url() -> str | None:
    return os.environ.get(ENV) or None


def on_postgres() -> bool:
    url = server_url()
    return url is not None and make_url(url).get_backend_name() == "postgresql"


def _libpq_dsn(url: str, database: str) -> str:
    # asyncpg speaks libpq URLs, not SQLAlchemy's "+asyncpg" ones.
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def create_database(name: str) -> str:
    """CREATE DATABASE on the test server; returns its SQLAlchemy URL."""
    import asyncpg

    base = server_url()
    assert base is not None
    conn = await asyncpg.connect(_libpq_dsn(base, make_url(base).database or "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_database(name: str) -> None:
    import asyncpg

    base = server_url()
    assert base is not None
    conn = await asyncpg.connect(_libpq_dsn(base, make_url(base).database or "postgres"))
    try:
        # FORCE: a killed bot process or a leaked pool must not keep the database alive.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(tmp_path: Path, stem: str = "club") -> AsyncIterator[str]:
    if not on_postgres():
        yield f"sqlite+aiosqlite:///{tmp_path / (stem + '.sqlite3')}"
        return
    name = f"t_{stem}_{uuid.uuid4().hex[:12]}".lower()
    url = await create_database(name)
    try:
        yield url
    finally:
        await drop_database(name)
