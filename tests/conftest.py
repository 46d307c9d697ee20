"""Shared pytest fixtures."""

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.fake_api import FakeBotAPI


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started offline Telegram Bot API on 127.0.0.1, stopped after the test."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def club(tmp_path):  # type: ignore[no-untyped-def]
    """The real bot polling the fake Bot API, with a fixed clock and a fresh database."""
    from tests.club import running_club

    async with running_club(tmp_path) as running:
        yield running
