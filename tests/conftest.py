"""Shared pytest fixtures."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.fake_api import FakeBotAPI
from tests.dburl import fresh_database, on_postgres


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `postgres` tests need a server; without one (a laptop) they are skipped, while CI
    # sets TEST_DATABASE_URL, so none is skipped there. SQLite-only tests say so.
    for item in items:
        if "postgres" in item.keywords and not on_postgres():
            item.add_marker(pytest.mark.skip(reason="needs TEST_DATABASE_URL (PostgreSQL)"))
        if "redis" in item.keywords and not os.environ.get("TEST_REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="needs TEST_REDIS_URL (Redis)"))
        if "sqlite_only" in item.keywords and on_postgres():
            item.add_marker(pytest.mark.skip(reason="SQLite only"))


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started offline Telegram Bot API on 127.0.0.1, stopped after the test."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite in tmp_path, or PostgreSQL with TEST_DATABASE_URL."""
    async with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
async def club(tmp_path):  # type: ignore[no-untyped-def]
    """The real bot polling the fake Bot API, with a fixed clock and a fresh database."""
    from tests.club import running_club

    async with running_club(tmp_path) as running:
        yield running


@pytest.fixture
async def unconnected_app_context():  # type: ignore[no-untyped-def]
    """An AppContext for building a dispatcher: its in-memory database is never connected."""
    from datetime import UTC, datetime

    from db.engine import create_engine, create_session_factory
    from ground.clock import FixedClock
    from ground.context import AppContext
    from ground.settings import load_settings
    from handlers.i18n import build_i18n

    url = "sqlite+aiosqlite:///:memory:"
    engine = create_engine(url)
    try:
        yield AppContext(
            settings=load_settings(_env_file=None, database_url=url, default_locale="ru"),
            session_factory=create_session_factory(engine),
            i18n=build_i18n("ru"),
            clock=FixedClock(datetime(2027, 1, 9, tzinfo=UTC)),
        )
    finally:
        await engine.dispose()
