"""The bench of tests/club.py in webhook mode: the real bot serving its aiohttp app, the
fake Bot API pushing updates to the URL the bot registered with setWebhook."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.runner import open_app, run_webhook
from ground.clock import FixedClock
from ground.settings import load_settings
from sandbox.fake_api import FakeBotAPI
from tests.club import ADMIN_ID, DEFAULT_NOW, TOKEN, Club
from tests.dburl import fresh_database

SECRET = "test-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def pump(fake: FakeBotAPI) -> None:
    """Telegram's side of a webhook: push every pending update as soon as there is one."""
    while True:
        if fake.pending_updates:
            await fake.deliver_to_webhook()
        else:
            await fake.wait_change(0.5)


@asynccontextmanager
async def running_webhook_club(
    tmp_path: Path, *, pumping: bool = True, **settings_overrides: object
) -> AsyncIterator[Club]:
    port = free_port()
    async with fresh_database(tmp_path) as url, FakeBotAPI() as fake:
        settings = load_settings(
            _env_file=None,
            database_url=url,
            admin_ids=str(ADMIN_ID),
            media_dir=str(tmp_path / "media"),
            default_locale="ru",
            throttle_rate=1000.0,
            throttle_burst=1000,
            bot_mode="webhook",
            webhook_url=f"http://127.0.0.1:{port}/tg/hook",
            webhook_secret=SECRET,
            web_host="127.0.0.1",
            web_port=port,
            **settings_overrides,
        )
        clock = FixedClock(DEFAULT_NOW)
        stop = asyncio.Event()
        async with open_app(settings, token=TOKEN, api_base=fake.base_url, clock=clock) as app:
            serving = asyncio.create_task(run_webhook(app, scheduler=False, stop=stop))
            await fake.wait_for(lambda: fake.webhook.get("url"), 10, "setWebhook")
            pusher = asyncio.create_task(pump(fake)) if pumping else None
            try:
                yield Club(fake=fake, app=app, clock=clock, settings=settings)
            finally:
                if pusher is not None:
                    pusher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await pusher
                stop.set()
                await asyncio.wait_for(serving, timeout=10)
