"""Wiring: the Bot, the Dispatcher with its middlewares and routers."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from archive import prompts
from bot.response_models import pin_response_models
from bot.routing import include_handler_routers
from bot.tolerant_session import TolerantSession
from burials import notices as burial_notices
from burials.relatives import KIND_PREFIX as RELATIVES_KINDS
from db.engine import member_cache_of
from delivery.club_chat import ClubChat
from delivery.pacer import Pacer, SendPacer
from delivery.rendering import ChatRenderer, Renderer
from delivery.sending import Delivery
from delivery.shared_pacer import SharedPacer, pacer_redis
from ground.context import AppContext
from ground.i18n import Translator
from ground.settings import Settings
from handlers.album_receipts import AlbumReceipts
from handlers.errors import make_error_handler
from handlers.middlewares import SharedThrottle, SharedTurns, Throttle, Turns, UpdateContext
from handlers.outbound import TelegramSender
from programme import notices as talk_notices
from scheduling.geo import localtime
from scheduling.meetings import club_posts, notices


def message_renderers(i18n: Translator) -> dict[str, Renderer]:
    """Which domain writes which outbox kind (the delivery tick knows none of them)."""
    meetings = notices.meeting_renderer(i18n)
    return {
        **{kind: meetings for kind in notices.MEETING_KINDS},
        prompts.KIND_PREFIX: prompts.prompt_renderer(i18n),
        # A speaker's news of their talk, with meeting times as the meetings domain writes them.
        talk_notices.KIND_PREFIX: talk_notices.talk_renderer(i18n, localtime.format_meeting_time),
        RELATIVES_KINDS: burial_notices.relatives_renderer(i18n),
        burial_notices.DECISION_PREFIX: burial_notices.decision_renderer(i18n),
    }


def chat_renderers(i18n: Translator, settings: Settings) -> dict[str, ChatRenderer]:
    """Posts in the club's chat, in the club's language and zones (delivery/club_chat.py)."""
    posts = club_posts.club_renderer(i18n, settings.default_locale, settings.club_zones)
    return {"club:" + kind: posts for kind in club_posts.KINDS}


def build_delivery(
    bot: Bot, ctx: AppContext, pacer: SendPacer, *, in_flight: int | None = None
) -> Delivery:
    """The outbox's delivery tick, sending through this bot."""
    return Delivery(
        TelegramSender(bot),
        ctx.session_factory,
        ctx.i18n,
        ctx.clock,
        pacer,
        renderers=message_renderers(ctx.i18n),
        in_flight=in_flight or ctx.settings.send_in_flight,
        club=ClubChat(
            ctx.settings.club_chat_id, ctx.settings.admin_ids, ctx.settings.default_locale
        ),
        chat_renderers=chat_renderers(ctx.i18n, ctx.settings),
    )


def build_pacer(settings: Settings, bot: Bot) -> tuple[SendPacer, Redis | None]:
    """The bot's send limit: shared over Redis by all instances when REDIS_URL is set
    (the Redis client is returned to be closed at shutdown), this process's otherwise."""
    local = Pacer(settings.send_rate_global, settings.send_rate_per_chat)
    if settings.redis_url is None:
        return local, None
    redis = pacer_redis(settings.redis_url)
    return SharedPacer(redis, bot.id, local), redis


def create_bot(token: str, api_base: str) -> Bot:
    session = TolerantSession(api=TelegramAPIServer.from_base(api_base))
    # Plain text everywhere: member-typed names never break an HTML parse.
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=None))


def _per_person_limits(settings: Settings, storage: BaseStorage | None) -> tuple[Throttle, Turns]:
    """Flood control and turns: shared by the instances that share dialogue state in Redis."""
    rate, burst = settings.throttle_rate, settings.throttle_burst
    if isinstance(storage, RedisStorage):
        return SharedThrottle(storage.redis, rate, burst), SharedTurns(storage.redis)
    return Throttle(rate, burst), Turns()


def build_dispatcher(ctx: AppContext, storage: BaseStorage | None = None) -> Dispatcher:
    from handlers import (  # the organisers' modules are imported for their handlers
        admin,  # noqa: F401
        burial_review,  # noqa: F401
        calendar,
        club_chat,
        common,
        events,  # noqa: F401
        fallback,
        gates,
        grave_add,
        graves,
        meetings,
        memoir_review,  # noqa: F401
        memoirs,
        organisers,  # noqa: F401
        planning,  # noqa: F401
        profile,
        registration,
        relatives,
        talk_review,  # noqa: F401
        talks,
        webapp,
    )

    pin_response_models()
    dp = Dispatcher(storage=storage or MemoryStorage())
    dp["settings"] = ctx.settings
    dp["clock"] = ctx.clock
    dp["app"] = ctx
    dp["album_receipts"] = AlbumReceipts()

    dp.update.outer_middleware(
        UpdateContext(
            ctx.session_factory,
            ctx.i18n,
            ctx.settings.admin_ids,
            member_cache_of(ctx.session_factory),
            *_per_person_limits(ctx.settings, storage),
        )
    )

    routers = [
        club_chat.router,  # /next in a group, and the links its posts open (before /start)
        common.router,
        registration.router,
        profile.router,
        meetings.router,
        memoirs.router,
        talks.router,
        graves.router,
        grave_add.router,
        relatives.router,
        # admin, burial_review, memoir_review, talk_review, organisers and planning
        # register on the organisers' router
        gates.organisers,
        calendar.router,
        webapp.router,
        fallback.router,  # catch-all last
    ]
    include_handler_routers(dp, routers)
    dp.errors.register(make_error_handler(ctx.i18n, ctx.session_factory))
    return dp
