"""Organisers' commands. Every update here is checked against the database and ADMIN_IDS."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.members import member_counts_by_country
from db.models import Member
from scheduling import places

log = logging.getLogger(__name__)

router = Router(name="admin")


class OrganisersOnly(BaseMiddleware):
    """Refuses non-organisers with the same answer as an unknown command: no hint given."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if data.get("is_organiser"):
            return await handler(event, data)
        user = data.get("event_from_user")
        log.warning("refused an organisers' command from user %s", user.id if user else None)
        if isinstance(event, Message):
            await event.answer(_("I don't know that command. /help lists what I can do."))
        return None


# Inner middleware: runs only when a handler of this router matched the update.
router.message.middleware(OrganisersOnly())
router.callback_query.middleware(OrganisersOnly())


@router.message(Command("members"))
async def cmd_members(message: Message, session: AsyncSession, member: Member | None) -> None:
    locale = member.locale if member else None
    total, by_country = await member_counts_by_country(session)
    lines = [_("Members: {count}").format(count=total)]
    for code, count in by_country:
        label = places.country_name(code, locale or "en") if code else "—"
        lines.append(f"• {label}: {count}")
    await message.answer("\n".join(lines))
