"""The offline sandbox (wiring only): the fake Bot API on 127.0.0.1 from sandbox/, the real
bot against it, and a terminal chat in which a newcomer types as a member or as an organiser."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from bot.runner import open_app, run_polling
from ground.settings import Settings
from sandbox.console import InputFn, OutputFn, run_console
from sandbox.fake_api import FakeBotAPI

SANDBOX_TOKEN = "100000:sandbox-token-not-secret"
MEMBER_ID = 1001
ORGANISER_ID = 1
SANDBOX_DATABASE = "sqlite+aiosqlite:///data/sandbox.sqlite3"
SANDBOX_MEDIA = Path("data/sandbox-media")

BANNER = """\
Offline sandbox of the «Любимый Харбин» club bot: a fake Telegram on this computer.
You chat as a member; type /start to register. `:as admin` switches to an organiser
(try /meeting, /broadcast), `:as member` back; `:photo` and `:voice` send samples (try
/memoir); `:help` lists the rest; Ctrl-D leaves. Your data: data/sandbox.sqlite3.
For the real bot, see README.md: put a token from @BotFather in .env as BOT_TOKEN.
"""


def sandbox_settings(settings: Settings) -> Settings:
    """The sandbox's own data, the sandbox organiser added, nothing real reached.

    Whatever .env says for the real bot: the sandbox keeps its own SQLite file and media
    folder (it must never claim the real bot's outbox rows or share its files), no Redis
    (shared dialogue state), no Zoom (real meetings), and it long-polls its fake server.
    """
    Path("data").mkdir(exist_ok=True)
    return settings.model_copy(
        update={
            "database_url": SANDBOX_DATABASE,
            "media_dir": SANDBOX_MEDIA,
            "redis_url": None,
            "zoom_account_id": None,
            "zoom_client_id": None,
            "zoom_client_secret": None,
            "bot_mode": "polling",
            "webhook_url": None,
            "webhook_secret": None,
            "admin_ids": frozenset({*settings.admin_ids, ORGANISER_ID}),
            "bot_token": None,
        }
    )


async def run_sandbox(
    settings: Settings, *, input_fn: InputFn | None = None, output_fn: OutputFn | None = None
) -> None:
    """Without `input_fn` and `output_fn`, the console reads and writes this terminal."""
    settings = sandbox_settings(settings)
    (output_fn or print)(BANNER)
    async with (
        FakeBotAPI() as fake,
        open_app(settings, token=SANDBOX_TOKEN, api_base=fake.base_url) as app,
    ):
        users = {
            "member": fake.user(MEMBER_ID, first_name="Guest", language_code="ru"),
            "admin": fake.user(ORGANISER_ID, first_name="Organiser", language_code="en"),
        }
        polling = asyncio.create_task(run_polling(app, handle_signals=False, web=False))
        try:
            await _polling_started(fake, polling)
            await run_console(fake, users, "member", input_fn=input_fn, output_fn=output_fn)
        finally:
            await app.dp.stop_polling()
            with contextlib.suppress(Exception):  # a start-up error was raised already
                await asyncio.wait_for(polling, timeout=10)


async def _polling_started(fake: FakeBotAPI, polling: asyncio.Task[None]) -> None:
    """Wait for the bot's first getUpdates (start-up takes seconds on a slow machine), or
    raise what stopped it from getting there."""
    started = asyncio.create_task(fake.wait_for_request("getUpdates", timeout=300))
    await asyncio.wait({started, polling}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        started.cancel()
        polling.result()  # raises the start-up's error
        raise RuntimeError("the bot stopped before it began polling")
    started.result()
