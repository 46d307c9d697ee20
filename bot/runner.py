"""Start-up and shutdown of the bot process: migrate, wire, publish menus, then poll or
serve the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from archive.search import reindex_outdated
from bot.app import build_delivery, build_dispatcher, build_pacer, create_bot
from bot.jobs import build_scheduler
from bot.reach import (
    TRANSIENT,
    OneLinePollingFailures,
    describe_failure,
    wait_for_bot_api,
    wait_for_database,
)
from bot.webhook import mount_webhook, webhook_path
from db.engine import create_engine, create_session_factory
from db.media import MediaStore
from db.media_check import check_media
from db.member_cache import Announcer, MemberCache, RedisInvalidations
from db.members import locales_of, organiser_ids
from db.migrate import upgrade_to_head
from db.unit_of_work import unit_of_work
from delivery.outbox import release_claims
from delivery.sending import Delivery
from ground.clock import Clock
from ground.context import AppContext
from ground.settings import Settings
from handlers.commands import publish_member_menus, publish_organiser_menu
from handlers.i18n import build_i18n
from handlers.webapp import publish_menu_button
from scheduling.feeds.store import DATA_VERSION
from scheduling.geo import places
from scheduling.planning.monthly import send_monthly_plan
from web.app import build_web_app, start_web
from web.health import HEALTH_KEY

log = logging.getLogger(__name__)


@dataclass
class RunningApp:
    ctx: AppContext
    bot: Bot
    dp: Dispatcher
    delivery: Delivery
    api_base: str  # where the Bot API is reached (the address in messages about it)


async def publish_menus(app: RunningApp) -> None:
    ctx = app.ctx
    await publish_member_menus(app.bot, ctx.i18n)
    try:
        await publish_menu_button(app.bot, ctx.i18n, ctx.settings)  # type: ignore[arg-type]
    except Exception as exc:  # a Bot API that refuses the address: the bot still runs
        log.warning("could not set the Mini App's menu button: %s", exc)
    async with ctx.session_factory() as session:
        organisers = await organiser_ids(session, ctx.settings.admin_ids)
        locales = await locales_of(session, organisers, ctx.settings.default_locale)
    for telegram_id in sorted(organisers):
        try:
            await publish_organiser_menu(app.bot, ctx.i18n, telegram_id, locales[telegram_id])
        except Exception as exc:  # an organiser who never opened the chat
            log.warning("could not set the organisers' menu for %s: %s", telegram_id, exc)


@asynccontextmanager
async def open_app(
    settings: Settings, *, token: str, api_base: str, clock: Clock | None = None
) -> AsyncIterator[RunningApp]:
    """Everything the bot needs, opened in order and closed in reverse."""
    await upgrade_to_head(settings.database_url)
    engine = create_engine(settings.database_url)
    member_cache, invalidations = member_cache_for(settings, engine.dialect.name)
    if invalidations is not None:
        await invalidations.start()
    ctx = AppContext(
        settings=settings,
        session_factory=create_session_factory(engine, member_cache, Announcer(invalidations)),
        i18n=build_i18n(settings.default_locale),
        clock=clock or Clock(),
    )
    await reindex_memoirs(ctx)
    # Files written but never recorded (a crash mid-store), or rows whose file is gone.
    (await check_media(MediaStore(settings.media_dir), ctx.session_factory)).log()
    bot = create_bot(token, api_base)
    pacer, pacer_redis = build_pacer(settings, bot)
    delivery = build_delivery(bot, ctx, pacer)
    delivery.lease = timedelta(seconds=settings.outbox_lease_seconds)
    storage = fsm_storage(settings)
    app = RunningApp(
        ctx=ctx,
        bot=bot,
        dp=build_dispatcher(ctx, storage),
        delivery=delivery,
        api_base=api_base,
    )
    try:
        yield app
    finally:
        await bot.session.close()
        await storage.close()
        if pacer_redis is not None:
            await pacer_redis.aclose()
        if invalidations is not None:
            await invalidations.close()
        await engine.dispose()


async def reindex_memoirs(ctx: AppContext) -> None:
    """Memoir search documents written by older rules are rewritten (archive/search.py),
    a batch per transaction; after the first start with new rules there is nothing to do."""
    done = 0
    while True:
        async with unit_of_work(ctx.session_factory) as session:
            batch = await reindex_outdated(session)
        if not batch:
            break
        done += batch
    if done:
        log.info("rewrote the search index of %d memoirs", done)


def member_cache_for(
    settings: Settings, dialect: str
) -> tuple[MemberCache | None, RedisInvalidations | None]:
    """The member cache, and how instances tell each other what changed.

    SQLite has one bot process, so local invalidation is complete. A shared database
    may have other instances writing: the cache is used only if Redis carries the news.
    """
    if settings.member_cache_seconds <= 0:
        return None, None
    cache = MemberCache(ttl=settings.member_cache_seconds)
    if settings.redis_url is not None:
        # Another instance's change to a meeting or a member (a revoked feed token) also
        # refreshes this instance's feed caches at once, not after their expiry.
        return cache, RedisInvalidations(settings.redis_url, cache, on_change=DATA_VERSION.bump)
    if dialect == "sqlite":
        return cache, None
    log.info("member cache off: %s without REDIS_URL may have other instances", dialect)
    return None, None


def fsm_storage(settings: Settings) -> BaseStorage:
    """Dialogue state: in memory for one process, Redis when instances share it."""
    if settings.redis_url is None:
        return MemoryStorage()
    from aiogram.fsm.storage.redis import RedisStorage

    return RedisStorage.from_url(settings.redis_url)


async def warm_up_and_freeze() -> None:
    """Load the place datasets now, then set the start-up heap aside from the collector.

    The city and zone indexes are ~350,000 objects; loaded lazily, the first typed city
    would wait 1-2 s for them. And a full garbage collection walking them takes ~0.4 s of
    blocked event loop; frozen, the collector only ever walks what updates allocate.
    """
    await asyncio.to_thread(places.warm_up)
    gc.collect()
    gc.freeze()


async def _prepare(app: RunningApp, *, scheduler: bool) -> AsyncIOScheduler | None:
    """Menus, leftover claims, and the scheduler: what both modes do before serving."""
    await warm_up_and_freeze()
    await publish_menus(app)
    if not app.ctx.settings.webhook_mode:
        # Only one process may long-poll, so claims left in the database are a killed
        # run's own. In webhook mode other instances may hold live claims: wait for leases.
        async with unit_of_work(app.ctx.session_factory) as session:
            released = await release_claims(session)
        if released:
            log.info("took back %s outbox rows claimed before the last stop", released)
    if not scheduler:
        return None
    ctx = app.ctx
    jobs = build_scheduler(
        app.delivery,
        lambda: send_monthly_plan(ctx.session_factory, ctx.i18n, ctx.clock, ctx.settings),
        plan_day=ctx.settings.plan_day,
        plan_hour_utc=ctx.settings.plan_hour_utc,
    )
    jobs.start()
    return jobs


def _web_app(app: RunningApp) -> web.Application:
    web_app = build_web_app(app.ctx, bot_token=app.bot.token)
    web_app[HEALTH_KEY].bot = app.bot  # /healthz checks Telegram with a cached getMe
    return web_app


async def run_polling(
    app: RunningApp, *, handle_signals: bool = True, scheduler: bool = True, web: bool = True
) -> None:
    settings = app.ctx.settings
    await app.bot.delete_webhook(drop_pending_updates=False)
    me = await app.bot.get_me()
    jobs = await _prepare(app, scheduler=scheduler)
    # A lost connection is polling's to retry: one line per failure, not two.
    polling_log = logging.getLogger("aiogram.dispatcher")
    one_line = OneLinePollingFailures(app.api_base, app.bot.token)
    polling_log.addFilter(one_line)
    web_runner = None
    try:
        if web:
            web_runner = await start_web(
                app.ctx, settings.web_host, settings.web_port, app=_web_app(app)
            )
        log.info("bot @%s is running (long polling)", me.username)
        await app.dp.start_polling(app.bot, handle_signals=handle_signals, close_bot_session=False)
    finally:
        polling_log.removeFilter(one_line)
        if jobs is not None:
            jobs.shutdown(wait=False)
        if web_runner is not None:
            await web_runner.cleanup()


async def run_webhook(
    app: RunningApp,
    *,
    scheduler: bool = True,
    stop: asyncio.Event | None = None,
    started: Callable[[web.AppRunner], None] | None = None,
) -> None:
    """Serve updates POSTed by Telegram on the feed's web server until `stop` (or a signal).

    deleteWebhook is never called here: another instance may be serving the same hook.
    """
    settings = app.ctx.settings
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    jobs = await _prepare(app, scheduler=scheduler)
    web_app = _web_app(app)
    receiver = mount_webhook(web_app, app.dp, app.bot, url=settings.webhook_url, secret=secret)
    stop = stop or _signal_event()
    await app.dp.emit_startup(bot=app.bot, **app.dp.workflow_data)
    web_runner = await start_web(app.ctx, settings.web_host, settings.web_port, app=web_app)
    try:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=app.dp.resolve_used_update_types(),
        )
        me = await app.bot.get_me()
        log.info("bot @%s is running (webhook %s)", me.username, webhook_path(settings.webhook_url))
        if started is not None:
            started(web_runner)
        await stop.wait()
    finally:
        await web_runner.cleanup()  # stops accepting first, then lets accepted updates end
        await receiver.drain()
        if jobs is not None:
            jobs.shutdown(wait=False)
        await app.dp.emit_shutdown(bot=app.bot, **app.dp.workflow_data)


def _signal_event() -> asyncio.Event:
    """SIGTERM/SIGINT set the event, so shutdown runs the `finally` blocks."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, event.set)
    return event


async def serve(app: RunningApp) -> None:
    if app.ctx.settings.webhook_mode:
        await run_webhook(app)
    else:
        await run_polling(app)


async def run(settings: Settings) -> None:
    """Serve until stopped; while the database server or Telegram cannot be reached, wait
    for them (StartupRefused if either says no: a wrong token or password)."""
    api_base = settings.telegram_api_base
    await wait_for_database(settings.database_url)
    async with open_app(settings, token=settings.token(), api_base=api_base) as app:
        while True:
            await wait_for_bot_api(app.bot, api_base)
            try:
                await serve(app)
                return
            except TRANSIENT as exc:  # lost again between getMe and serving: wait again
                log.warning(
                    "cannot reach the Telegram Bot API at %s while starting: %s",
                    api_base,
                    describe_failure(exc, app.bot.token),
                )


def main_loop(settings: Settings) -> None:
    asyncio.run(run(settings))
