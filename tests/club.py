"""The end-to-end bench: the real bot process loop (aiogram polling, HTTP session,
middlewares, SQLite) against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.runner import RunningApp, open_app, run_polling
from db.models import Member
from ground.clock import FixedClock
from ground.settings import Settings, load_settings
from sandbox.fake_api import FakeBotAPI, FakeUser, SentMessage
from tests.dburl import fresh_database

TOKEN = "123456:TEST-token-for-the-fake-api"
ADMIN_ID = 900
# Saturday 9 January 2027, 11:32 UTC: Sydney 22:32 Sat, Harbin 19:32, New York 06:32.
DEFAULT_NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)


@dataclass
class Club:
    fake: FakeBotAPI
    app: RunningApp
    clock: FixedClock
    settings: Settings

    def user(
        self, user_id: int, first_name: str = "Anna", language_code: str | None = "en", **kw: str
    ) -> FakeUser:
        return self.fake.user(user_id, first_name=first_name, language_code=language_code, **kw)

    async def member(self, telegram_id: int) -> Member | None:
        async with self.app.ctx.session_factory() as session:
            return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))

    async def say(self, user: FakeUser, text: str) -> SentMessage:
        user.send_text(text)
        return await user.expect_reply()

    async def press(self, user: FakeUser, label: str) -> SentMessage:
        user.press(label)
        return await user.expect_reply()

    async def press_starting(self, user: FakeUser, prefix: str) -> SentMessage:
        """Press the newest button whose label starts with `prefix` (labels carry offsets)."""
        message = next(
            m
            for m in reversed(user.messages())
            if any(lbl.startswith(prefix) for lbl in m.button_labels)
        )
        label = next(lbl for lbl in message.button_labels if lbl.startswith(prefix))
        return await self.press(user, label)

    async def register(
        self,
        user: FakeUser,
        *,
        lang: str = "English",
        country: str = "Australia",
        city_prefix: str = "Sydney",
    ) -> Member:
        """The button path through /start, used by tests that need a member."""
        await self.say(user, "/start")
        await self.press(user, lang)
        name_prompt = user.messages()[-1]
        await self.press(user, name_prompt.button_labels[0])
        await self.press(user, country)
        await self.press_starting(user, city_prefix)
        confirm = user.messages()[-1]
        await self.press(user, confirm.button_labels[0])
        hours = user.messages()[-1]
        await self.press(user, hours.button_labels[0])
        consent = user.messages()[-1]
        await self.press(user, consent.button_labels[0])
        member = await self.member(user.id)
        assert member is not None and member.is_registered
        return member


@asynccontextmanager
async def running_club(
    tmp_path: Path, *, now: datetime = DEFAULT_NOW, **settings_overrides: object
) -> AsyncIterator[Club]:
    if "database_url" not in settings_overrides:
        # SQLite in tmp_path, or a fresh PostgreSQL database with TEST_DATABASE_URL.
        async with (
            fresh_database(tmp_path) as url,
            running_club(tmp_path, now=now, database_url=url, **settings_overrides) as club,
        ):
            yield club
        return
    overrides: dict[str, object] = {
        "_env_file": None,
        "admin_ids": str(ADMIN_ID),
        "media_dir": str(tmp_path / "media"),
        "default_locale": "ru",
        # Tests click faster than any person; flood control has its own test.
        "throttle_rate": 1000.0,
        "throttle_burst": 1000,
    }
    overrides.update(settings_overrides)
    settings = load_settings(**overrides)
    clock = FixedClock(now)
    async with (
        FakeBotAPI() as fake,
        open_app(settings, token=TOKEN, api_base=fake.base_url, clock=clock) as app,
    ):
        polling = asyncio.create_task(
            run_polling(app, handle_signals=False, scheduler=False, web=False)
        )
        await fake.wait_for_request("getUpdates")
        try:
            yield Club(fake=fake, app=app, clock=clock, settings=settings)
        finally:
            await app.dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
        # Every test through the real bot also checks that each pressed button was answered
        # exactly once: a second answer fails in Telegram ("query is too old").
        refused = [r.params for r in fake.requests_for("answerCallbackQuery") if r.status != 200]
        assert not refused, f"a callback query was answered twice: {refused}"
