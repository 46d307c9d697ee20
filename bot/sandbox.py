"""The offline sandbox (wiring only): the fake Bot API on 127.0.0.1 from sandbox/, the real
bot against it, and a terminal chat in which a newcomer types as a member or as an organiser."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.runner import open_app, run_polling
from ground.settings import Settings
from sandbox.console import InputFn, OutputFn, run_console
from sandbox.fake_api import FakeBotAPI

SANDBOX_TOKEN = "100000:sandbox-token-not-secret"
MEMBER_ID = 1001
ORGANISER_ID = 1

BANNER = """\
Offline sandbox of the «Любимый Харбин» club bot (no Telegram token configured).
You are chatting as a member; type /start to register. `:as admin` switches to an
organiser (try /meeting, /broadcast), `:as member` back, `:help` for more, Ctrl-D to leave.
For the real bot, see README.md: put a token from @BotFather in .env as BOT_TOKEN.
"""


def sandbox_settings(settings: Settings) -> Settings:
    """Separate database, the sandbox organiser added, faster delivery for the console."""
    database = settings.database_url
    if database.startswith("sqlite"):
        Path("data").mkdir(exist_ok=True)
        database = "sqlite+aiosqlite:///data/sandbox.sqlite3"
    return settings.model_copy(
        update={
            "database_url": database,
            "admin_ids": frozenset({*settings.admin_ids, ORGANISER_ID}),
            "bot_token": None,
        }
    )


async def run_sandbox(
    settings: Settings, *, input_fn: InputFn | None = None, output_fn: OutputFn = print
) -> None:
    settings = sandbox_settings(settings)
    async with (
        FakeBotAPI() as fake,
        open_app(settings, token=SANDBOX_TOKEN, api_base=fake.base_url) as app,
    ):
        users = {
            "member": fake.user(MEMBER_ID, first_name="Guest", language_code="ru"),
            "admin": fake.user(ORGANISER_ID, first_name="Organiser", language_code="en"),
        }
        polling = asyncio.create_task(run_polling(app, handle_signals=False, web=False))
        await fake.wait_for_request("getUpdates")
        output_fn(BANNER)
        try:
            await run_console(fake, users, "member", input_fn=input_fn, output_fn=output_fn)
        finally:
            await app.dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
