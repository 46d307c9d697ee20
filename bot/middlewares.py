"""Update middlewares: database session, member, locale, private chats only, throttling."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import resolve_locale
from db.member_cache import MemberCache
from db.members import member_and_role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _chat_type(update: Update) -> str | None:
    if update.message:
        return update.message.chat.type
    if update.edited_message:
        return update.edited_message.chat.type
    if update.callback_query and update.callback_query.message:
        return update.callback_query.message.chat.type
    return None


class PrivateChatsOnly(BaseMiddleware):
    """The bot talks to members one to one; in groups it keeps silent (design choice)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        chat_type = _chat_type(event)
        if chat_type is not None and chat_type != "private":
            return None
        return await handler(event, data)


class DbSessionMiddleware(BaseMiddleware):
    """One session per update, closed afterwards; handlers commit what they change."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        session = self.session_factory()
        data["session"] = session
        try:
            return await handler(event, data)
        finally:
            # Most updates never touch the database (the member comes from the cache);
            # closing an unused session would still cost a greenlet round trip.
            if session.in_transaction() or session.sync_session.identity_map or session.new:
                await session.close()


class MemberMiddleware(BaseMiddleware):
    """Loads the member (or None) and whether the sender is an organiser."""

    def __init__(self, admin_ids: frozenset[int], cache: MemberCache | None = None) -> None:
        self.admin_ids = admin_ids
        self.cache = cache

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        if user is None:
            data["member"] = None
            data["is_organiser"] = False
        else:
            member, organiser = await member_and_role(session, user.id, self.admin_ids, self.cache)
            data["member"], data["is_organiser"] = member, organiser
        return await handler(event, data)


class MemberLocaleMiddleware(I18nMiddleware):
    """Locale: the member's saved choice, then the one picked in the dialogue, then a guess."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        member = data.get("member")
        if member is not None and member.locale:
            return member.locale
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get("locale")
            if chosen:
                return str(chosen)
        user: User | None = data.get("event_from_user")
        return resolve_locale(user.language_code if user else None, self.i18n.default_locale)


class ThrottleMiddleware(BaseMiddleware):
    """Drops a flood from one user, telling them once per burst to slow down."""

    def __init__(self, rate_per_sec: float = 4.0, burst: int = 8) -> None:
        self.rate = rate_per_sec
        self.burst = burst
        self._buckets: dict[int, tuple[float, float, bool]] = {}

    def allow(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        """Token bucket per user. Returns (allowed, should_warn)."""
        now = time.monotonic() if now is None else now
        tokens, last, warned = self._buckets.get(user_id, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[user_id] = (tokens - 1.0, now, False)
            return True, False
        self._buckets[user_id] = (tokens, now, True)
        return False, not warned

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, warn = self.allow(user.id)
        if allowed:
            return await handler(event, data)
        if warn:
            from aiogram.utils.i18n import gettext as _

            bot = data["bot"]
            await bot.send_message(
                user.id, _("You are sending messages very fast. Please wait a moment.")
            )
        return None
