"""Start-up and shutdown of the bot process: migrate, wire, publish menus, poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher

from archive.check import check_media
from archive.storage import MediaStore
from bot.app import AppContext, build_dispatcher, create_bot
from bot.clock import Clock
from bot.commands import publish_member_menus, publish_organiser_menu
from bot.config import Settings
from bot.i18n import build_i18n
from bot.web import start_web
from db.engine import create_engine, create_session_factory
from db.members import get_member, promoted_organiser_ids
from db.migrate import upgrade_to_head
from scheduling.delivery import Delivery
from scheduling.jobs import build_scheduler
from scheduling.outbox import release_claims
from scheduling.pacer import Pacer

log = logging.getLogger(__name__)


@dataclass
class RunningApp:
    ctx: AppContext
    bot: Bot
    dp: Dispatcher
    delivery: Delivery


async def publish_menus(app: RunningApp) -> None:
    ctx = app.ctx
    await publish_member_menus(app.bot, ctx.i18n)
    async with ctx.session_factory() as session:
        organisers = set(ctx.settings.admin_ids) | await promoted_organiser_ids(session)
        for telegram_id in sorted(organisers):
            member = await get_member(session, telegram_id)
            locale = member.locale if member else ctx.settings.default_locale
            try:
                await publish_organiser_menu(app.bot, ctx.i18n, telegram_id, locale)
            except Exception as exc:  # an organiser who never opened the chat
                log.warning("could not set the organisers' menu for %s: %s", telegram_id, exc)


@asynccontextmanager
async def open_app(
    settings: Settings, *, token: str, api_base: str, clock: Clock | None = None
) -> AsyncIterator[RunningApp]:
    """Everything the bot needs, opened in order and closed in reverse."""
    await upgrade_to_head(settings.database_url)
    engine = create_engine(settings.database_url)
    ctx = AppContext(
        settings=settings,
        session_factory=create_session_factory(engine),
        i18n=build_i18n(settings.default_locale),
        clock=clock or Clock(),
    )
    # Files written but never recorded (a crash mid-store), or rows whose file is gone.
    (await check_media(MediaStore(settings.media_dir), ctx.session_factory)).log()
    bot = create_bot(token, api_base)
    pacer = Pacer(settings.send_rate_global, settings.send_rate_per_chat)
    delivery = Delivery(
        bot, ctx.session_factory, ctx.i18n, ctx.clock, pacer, workers=settings.send_workers
    )
    app = RunningApp(ctx=ctx, bot=bot, dp=build_dispatcher(ctx), delivery=delivery)
    try:
        yield app
    finally:
        await bot.session.close()
        await engine.dispose()


async def run_polling(
    app: RunningApp, *, handle_signals: bool = True, scheduler: bool = True, web: bool = True
) -> None:
    await app.bot.delete_webhook(drop_pending_updates=False)
    await publish_menus(app)
    async with app.ctx.session_factory() as session:
        released = await release_claims(session)
    if released:
        log.info("took back %s outbox rows claimed before the last stop", released)
    jobs = None
    if scheduler:
        from handlers.planning import send_monthly_plan

        jobs = build_scheduler(
            app.delivery,
            lambda: send_monthly_plan(app.bot, app.ctx),
            plan_day=app.ctx.settings.plan_day,
            plan_hour_utc=app.ctx.settings.plan_hour_utc,
        )
    if jobs is not None:
        jobs.start()
    settings = app.ctx.settings
    web_runner = await start_web(app.ctx, settings.web_host, settings.web_port) if web else None
    me = await app.bot.get_me()
    log.info("bot @%s is running (long polling)", me.username)
    try:
        await app.dp.start_polling(app.bot, handle_signals=handle_signals, close_bot_session=False)
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)
        if web_runner is not None:
            await web_runner.cleanup()


async def run(settings: Settings) -> None:
    async with open_app(
        settings, token=settings.token(), api_base=settings.telegram_api_base
    ) as app:
        await run_polling(app)


def main_loop(settings: Settings) -> None:
    asyncio.run(run(settings))
