"""The global error handler: log the update id and the error, apologise to the user."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.members import get_member
from ground.i18n import N_, resolve_locale

log = logging.getLogger(__name__)

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a minute.")


def _user_id(event: ErrorEvent) -> tuple[int | None, str | None]:
    update = event.update
    source = update.message or update.callback_query or update.edited_message
    user = getattr(source, "from_user", None)
    if user is None:
        return None, None
    return user.id, user.language_code


def make_error_handler(i18n: I18n, session_factory: async_sessionmaker[AsyncSession]):  # type: ignore[no-untyped-def]
    async def on_error(event: ErrorEvent, bot: Bot) -> bool:
        if isinstance(event.exception, TelegramNetworkError):
            # The network dropped mid-update: one line; a traceback would say nothing more.
            log.warning(
                "update %s: Telegram unreachable: %s", event.update.update_id, event.exception
            )
            return True
        log.error(
            "update %s failed: %s: %s",
            event.update.update_id,
            type(event.exception).__name__,
            event.exception,
            exc_info=event.exception,
        )
        user_id, language_code = _user_id(event)
        if user_id is None or (
            event.update.message and event.update.message.chat.type != "private"
        ):
            return True
        locale = resolve_locale(language_code, i18n.default_locale)
        try:
            async with session_factory() as session:
                member = await get_member(session, user_id)
                if member is not None:
                    locale = member.locale
        except Exception:  # the database may be why we are here
            log.debug("could not load the member's locale for the apology")
        try:
            await bot.send_message(user_id, i18n.gettext(APOLOGY, locale=locale))
        except Exception as exc:  # never let the apology itself crash the loop
            log.warning("could not send the apology for update %s: %s", event.update.update_id, exc)
        return True

    return on_error
