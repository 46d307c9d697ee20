"""What every update goes through before a handler: one outer middleware, in steps.

The steps, in order: count the update (/metrics); keep silent outside private chats (but
for /next in a group); wait for the same person's previous update to finish; open a
database session (the update's unit of work, committed when the handler returns); load the
member and their role; choose the locale; drop a flood.

They run inside one aiogram middleware rather than six: aiogram wraps each middleware layer
anew for every update, and six layers were a measurable share of a button press
(bench/updates.py). Each step is still its own small function or class below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.member_cache import MemberCache
from db.members import member_and_role, remember_locale
from db.unit_of_work import commit, has_pending_work, rollback
from ground.i18n import resolve_locale
from ground.metrics import UPDATES
from handlers.replies import new_update

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


# Marks the placeholder of an update the bot could not decode (bot/tolerant_session.py):
# it keeps polling moving and is dropped here.
UNDECODABLE = "harbin_undecodable"


def is_placeholder(update: Update) -> bool:
    extra = update.model_extra
    return bool(extra) and bool(extra.get(UNDECODABLE))


def chat_type(update: Update) -> str | None:
    if update.message:
        return update.message.chat.type
    if update.edited_message:
        return update.edited_message.chat.type
    if update.callback_query and update.callback_query.message:
        return update.callback_query.message.chat.type
    return None


def is_private_or_chatless(update: Update) -> bool:
    """The bot talks to members one to one; in groups it keeps silent (design choice)."""
    kind = chat_type(update)
    return kind is None or kind == "private"


def is_group_next(update: Update) -> bool:
    """The one exception: /next in a group (the club's own, say) gets a brief answer."""
    message = update.message
    if message is None or message.chat.type not in ("group", "supergroup"):
        return False
    words = (message.text or "").split(maxsplit=1)
    return bool(words) and words[0].split("@", 1)[0].lower() == "/next"


async def choose_locale(
    member: Any, state: FSMContext | None, user: User | None, default: str
) -> str:
    """The member's saved choice, then the one picked in the dialogue, then a guess."""
    if member is not None and member.locale:
        return str(member.locale)
    if state is not None:
        chosen = (await state.get_data()).get("locale")
        if chosen:
            return str(chosen)
    return resolve_locale(user.language_code if user else None, default)


class Throttle:
    """Token bucket per user: drops a flood, asking them once per burst to slow down."""

    def __init__(self, rate_per_sec: float = 4.0, burst: int = 8) -> None:
        self.rate = rate_per_sec
        self.burst = burst
        self._buckets: dict[int, tuple[float, float, bool]] = {}
        self._refill_seconds = burst / rate_per_sec
        self._next_sweep = 0.0

    def allow(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        """Returns (allowed, should_warn)."""
        now = time.monotonic() if now is None else now
        if now >= self._next_sweep:
            self._forget_full_buckets(now)
        tokens, last, warned = self._buckets.get(user_id, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[user_id] = (tokens - 1.0, now, False)
            return True, False
        self._buckets[user_id] = (tokens, now, True)
        return False, not warned

    def _forget_full_buckets(self, now: float) -> None:
        # A bucket left alone for a whole refill is full again, the same as no bucket: without
        # this sweep (once per refill time) everyone who ever wrote would keep an entry.
        cutoff = now - self._refill_seconds
        self._buckets = {key: b for key, b in self._buckets.items() if b[1] > cutoff}
        self._next_sweep = now + self._refill_seconds

    def __len__(self) -> int:
        return len(self._buckets)

    async def check(self, user_id: int) -> tuple[bool, bool]:
        """Returns (allowed, should_warn); see `allow`."""
        return self.allow(user_id)

    @staticmethod
    async def warn(bot: Bot, user_id: int) -> None:
        await bot.send_message(
            user_id, _("You are sending messages very fast. Please wait a moment.")
        )


class SharedThrottle(Throttle):
    """The same bucket per person, kept in Redis: instances share it, so a flood spread
    over several of them is still one flood. Redis's clock times it, not the instances'.
    If Redis cannot be reached, this process's own bucket decides."""

    # One round trip, atomic: refill by the time passed, take a token or note the refusal.
    _BUCKET = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last', 'warned')
local tokens = math.min(burst, (tonumber(state[1]) or burst) + (t - (tonumber(state[2]) or t)) * rate)
local allowed, warn, warned = 0, 0, state[3] == '1'
if tokens >= 1 then
    tokens, allowed, warned = tokens - 1, 1, false
elseif not warned then
    warn, warned = 1, true
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(t),
           'warned', warned and '1' or '0')
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, warn}
"""

    def __init__(self, redis: Redis, rate_per_sec: float = 4.0, burst: int = 8) -> None:
        super().__init__(rate_per_sec, burst)
        self.redis = redis
        self._bucket = redis.register_script(self._BUCKET)

    async def check(self, user_id: int) -> tuple[bool, bool]:
        try:
            allowed, warn = await self._bucket(
                keys=[f"harbin:flood:{user_id}"], args=[self.rate, self.burst]
            )
        except (RedisError, OSError) as exc:
            log.warning("flood control falls back to this process: %s", exc)
            return self.allow(user_id)
        return bool(allowed), bool(warn)


class Turns:
    """One update at a time per person, in the order they arrived.

    aiogram handles updates as concurrent tasks, so two quick presses used to run side by
    side: replies could come out of order, and both presses could act on the same step.
    Waiters queue first come, first served (asyncio.Lock is fair). Only within this
    process: with several webhook instances, one person's updates may still meet apart.
    """

    def __init__(self) -> None:
        # Per person: the lock, and how many updates hold or wait for it.
        self._queues: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[bool]:
        """Wait for this person's turn; yields whether an earlier update was still going."""
        lock, users = self._queues.get(user_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._queues[user_id] = (lock, users + 1)
        try:
            async with lock:
                yield users > 0
        finally:
            lock, users = self._queues[user_id]
            if users == 1:
                del self._queues[user_id]  # nobody else holds or waits for it
            else:
                self._queues[user_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._queues)


class SharedTurns(Turns):
    """Turns across instances: this process's queue first, then a Redis lock per person.

    Behind a load balancer, one person's double tap can reach two instances at once, and
    both would act on the same dialogue step (two registrations, one failing). The Redis
    lock lets one of them through at a time. Across instances the order is not guaranteed,
    only that they take turns; the one that waited re-reads the dialogue state.
    """

    # A holder that dies frees the person after this long; a waiter gives up after WAIT.
    LOCK_SECONDS = 60.0
    WAIT_SECONDS = 30.0

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self.redis = redis

    @asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[bool]:
        async with super().turn(user_id) as waited_here:
            lock = self.redis.lock(
                f"harbin:turn:{user_id}",
                timeout=self.LOCK_SECONDS,
                sleep=0.02,
                blocking_timeout=self.WAIT_SECONDS,
            )
            held = await lock.acquire(blocking=False)
            waited_elsewhere = not held
            if not held:
                held = await lock.acquire()
                if not held:  # handling it late beats dropping it
                    log.warning("user %s: another instance kept their turn too long", user_id)
            try:
                yield waited_here or waited_elsewhere
            finally:
                if held:
                    with contextlib.suppress(LockError):  # expired meanwhile: nothing to free
                        await lock.release()


def session_was_used(session: AsyncSession) -> bool:
    # Most updates never touch the database (the member comes from the cache); closing an
    # unused session would still cost a greenlet round trip.
    return bool(session.in_transaction() or session.sync_session.identity_map or session.new)


class SpareSessions:
    """Database sessions for updates; one that an update never used serves the next.

    Most updates never touch the database, and building a session was a thirtieth of a
    button press. An unused session is in the state of a new one: no transaction, nothing
    loaded or added, and only the factory's own `info`. A used one is closed as always.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession], keep: int = 64) -> None:
        self.factory = factory
        self.keep = keep
        self._spare: list[AsyncSession] = []
        self._fresh_info = dict(factory().info)

    def take(self) -> AsyncSession:
        return self._spare.pop() if self._spare else self.factory()

    async def give_back(self, session: AsyncSession) -> None:
        if session_was_used(session):
            await session.close()
        elif session.info == self._fresh_info and len(self._spare) < self.keep:
            self._spare.append(session)


class UpdateContext(BaseMiddleware):
    """The outer update middleware: the steps above, then the handler."""

    # Organisers without a member row, and the language last stored for each: the bot's
    # notices to them follow the language they use (db.members.locales_of), and a change is
    # written once, not on every update.
    _organiser_locales: dict[int, str]

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        i18n: I18n,
        admin_ids: frozenset[int],
        member_cache: MemberCache | None,
        throttle: Throttle,
        turns: Turns | None = None,
    ) -> None:
        self.sessions = SpareSessions(session_factory)
        self.i18n = i18n
        self.admin_ids = admin_ids
        self.member_cache = member_cache
        self.throttle = throttle
        self.turns = turns if turns is not None else Turns()  # (an idle one has len 0)
        self._organiser_locales = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        UPDATES.inc()
        new_update()
        if (not is_private_or_chatless(event) and not is_group_next(event)) or is_placeholder(
            event
        ):
            return None
        user: User | None = data.get("event_from_user")
        if user is None:
            if chat_type(event) == "private":
                return None  # a private message always has a sender; nobody to answer
            return await self._with_turn(handler, event, data)
        async with self.turns.turn(user.id) as waited:
            state: FSMContext | None = data.get("state")
            if waited and state is not None:
                # Read before this update's turn came: the previous one may have moved it.
                data["raw_state"] = await state.get_state()
            return await self._with_turn(handler, event, data)

    async def _with_turn(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        # The update's unit of work: what the handler left uncommitted is committed when it
        # returns, and rolled back if it fails (db/unit_of_work.py).
        session = self.sessions.take()
        data["session"] = session
        try:
            result = await self._with_session(handler, event, data, session)
            # Most updates never touched the session: one cheap look, then nothing to do.
            if session_was_used(session) and has_pending_work(session):
                await commit(session)
            return result
        except BaseException:
            if session_was_used(session):
                await rollback(session)
            raise
        finally:
            await self.sessions.give_back(session)

    async def _note_organisers_language(
        self, session: AsyncSession, telegram_id: int, locale: str
    ) -> None:
        if self._organiser_locales.get(telegram_id) == locale:
            return
        await remember_locale(session, telegram_id, locale)  # committed with the update
        self._organiser_locales[telegram_id] = locale

    async def _with_session(
        self, handler: Handler, event: Update, data: dict[str, Any], session: AsyncSession
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            member, organiser = None, False
        else:
            member, organiser = await member_and_role(
                session, user.id, self.admin_ids, self.member_cache
            )
        data["member"], data["is_organiser"] = member, organiser
        locale = await choose_locale(member, data.get("state"), user, self.i18n.default_locale)
        if organiser and member is None and user is not None:
            await self._note_organisers_language(session, user.id, locale)
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            if user is not None:
                allowed, warn = await self.throttle.check(user.id)
                if not allowed:
                    if warn:
                        await self.throttle.warn(data["bot"], user.id)
                    return None
            return await handler(event, data)
