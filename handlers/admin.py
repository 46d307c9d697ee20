"""Organisers' commands. Every update here is checked against the database and ADMIN_IDS."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, MagicData
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.members import (
    demote_organiser,
    get_member,
    organiser_ids,
    promote_organiser,
)
from db.models import Member
from db.stats import (
    MEMBERS_PER_PAGE,
    MemberPage,
    MemberRow,
    member_breakdown,
    member_page,
    recent_meeting_stats,
)
from db.unit_of_work import commit
from ground.clock import Clock
from ground.settings import Settings
from handlers.callbacks import RowId
from handlers.commands import publish_organiser_menu
from handlers.filters import Forwarded
from handlers.gates import organisers as router
from handlers.keyboards import Keyboard
from handlers.replies import TELEGRAM_TEXT_LIMIT, clip, show, then
from scheduling.geo import localtime, places
from scheduling.geo.stored_place import place_label

log = logging.getLogger(__name__)


# Telegram's user ids are positive and have at most 52 significant bits.
MAX_USER_ID = 2**52


def telegram_user_id(text: str) -> int | None:
    """A person's Telegram id typed by an organiser, or None if it cannot be one."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    return value if 0 < value < MAX_USER_ID else None


class MembersPageCb(CallbackData, prefix="mbrs"):
    page: RowId


def _member_line(row: MemberRow, now: datetime, locale: str) -> str:
    # The offset is today's, so an organiser sees whose clocks changed (DST).
    place = (
        place_label(row.place_id, row.city, row.zone, locale, row.country)
        if row.zone or row.city
        else "—"
    )
    offset = localtime.format_utc_offset(now, row.zone) if row.zone else "—"
    return f"{row.name or '—'} · {place} · {offset}"


def _members_page_lines(page: MemberPage, now: datetime, locale: str) -> list[str]:
    lines = [_("Members, page {page} of {pages}:").format(page=page.page + 1, pages=page.pages)]
    for number, row in enumerate(page.rows, start=page.page * MEMBERS_PER_PAGE + 1):
        line = _member_line(row, now, locale)
        if not row.reachable:
            line += " · 🚫 " + _("unreachable (blocked the bot)")
        lines.append(f"{number}. {line}")
    return lines


async def _members_view(
    session: AsyncSession, page_number: int, now: datetime, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Summary and one page in a single message: /members answers once, the buttons edit it."""
    breakdown = await member_breakdown(session)
    lines = [_("Members: {count}").format(count=breakdown.total), "", _("By country:")]
    for code, count in breakdown.by_country:
        label = places.country_name(code, locale) if code else "—"
        lines.append(f"• {label}: {count}")
    lines += ["", _("By time zone:")]
    for zone, count in breakdown.by_zone:
        label = places.zone_label_with_offset(zone, locale, now) if zone else "—"
        lines.append(f"• {label}: {count}")
    page = await member_page(session, page_number)
    if not page.rows:
        return clip("\n".join(lines)), None
    # Clip the summary, never the page: a club spread over many zones still sees its list.
    listing = "\n".join(_members_page_lines(page, now, locale))
    summary = clip("\n".join(lines), TELEGRAM_TEXT_LIMIT - len(listing) - 2)
    keyboard = Keyboard()
    if page.page > 0:
        keyboard.button(text="◀️ " + _("Previous"), callback_data=MembersPageCb(page=page.page - 1))
    if page.page + 1 < page.pages:
        keyboard.button(text=_("Next") + " ▶️", callback_data=MembersPageCb(page=page.page + 1))
    markup = keyboard.adjust(2).as_markup() if keyboard.rows() else None
    return clip(summary + "\n\n" + listing), markup


@router.message(Command("members"))
async def cmd_members(message: Message, session: AsyncSession, clock: Clock, i18n: I18n) -> None:
    text, markup = await _members_view(session, 0, clock.now(), i18n.current_locale)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MembersPageCb.filter())
async def on_members_page(
    query: CallbackQuery,
    callback_data: MembersPageCb,
    session: AsyncSession,
    clock: Clock,
    i18n: I18n,
) -> None:
    text, markup = await _members_view(
        session, callback_data.page, clock.now(), i18n.current_locale
    )
    await show(query, text, markup)


@router.message(Command("stats"))
async def cmd_stats(
    message: Message, session: AsyncSession, member: Member | None, clock: Clock, i18n: I18n
) -> None:
    stats = await recent_meeting_stats(session)
    if not stats:
        await message.answer(_("No meetings yet."))
        return
    locale, zone, now = i18n.current_locale, (member.zone if member else None) or "UTC", clock.now()
    lines = [_("Latest meetings (times in {zone}):").format(zone=zone)]
    for item in stats:
        when = localtime.format_meeting_time(item.starts_at, zone, locale, with_year=True)
        if item.status == "cancelled":
            when += " · " + _("cancelled")
        elif item.starts_at > now:
            when += " · " + _("upcoming")
        lines += [
            "",
            when,
            _(
                "✅ {yes} · 🤔 {maybe} · ❌ {no} · no answer: {silent} · reminders delivered: {delivered}"
            ).format(
                yes=item.yes,
                maybe=item.maybe,
                no=item.no,
                silent=item.no_answer,
                delivered=item.reminders_delivered,
            ),
            _("Said afterwards they were there: {attended}").format(attended=item.attended),
        ]
    await message.answer(clip("\n".join(lines)))


def _organiser_line(telegram_id: int, member: Member | None, from_config: bool, locale: str) -> str:
    if member and member.name:
        who = _("{name}, Telegram id {id}").format(name=member.name, id=telegram_id)
    else:
        who = _("Telegram id {id} (not registered in the bot)").format(id=telegram_id)
    line = f"• {who}"
    return then(line, _("(from ADMIN_IDS, permanent)"), locale) if from_config else line


@router.message(Command("admins"))
async def cmd_admins(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    """/admins lists; /admins add <id>; /admins remove <id>; or reply to a forwarded message."""
    args = (command.args or "").split()
    actor = message.from_user.id if message.from_user else 0
    if not args:
        ids = sorted(await organiser_ids(session, settings.admin_ids))
        lines = [_("Organisers:")]
        for telegram_id in ids:
            lines.append(
                _organiser_line(
                    telegram_id,
                    await get_member(session, telegram_id),
                    telegram_id in settings.admin_ids,
                    i18n.current_locale,
                )
            )
        lines.append("")
        lines.append(
            _(
                "Add: /admins add <Telegram id>, or forward me a message from the person. Remove: /admins remove <Telegram id>."
            )
        )
        await message.answer("\n".join(lines))
        return
    action, target = args[0].lower(), args[1] if len(args) > 1 else ""
    telegram_id = telegram_user_id(target)
    if action not in ("add", "remove") or telegram_id is None:
        await message.answer(_("Please write /admins add 123456789 or /admins remove 123456789."))
        return
    if action == "add":
        await _promote(message, session, bot, i18n, telegram_id, actor)
        return
    if telegram_id in settings.admin_ids:
        await message.answer(
            _("This organiser is listed in ADMIN_IDS and can only be removed there.")
        )
        return
    if await demote_organiser(session, telegram_id):
        await commit(session)
        log.info("organiser %s removed by %s", telegram_id, actor)
        with contextlib.suppress(TelegramAPIError):
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=telegram_id))
        await message.answer(_("Removed from the organisers."))
    else:
        await message.answer(_("That person is not an organiser."))


async def _promote(
    message: Message, session: AsyncSession, bot: Bot, i18n: I18n, telegram_id: int, actor: int
) -> None:
    if not await promote_organiser(session, telegram_id, actor):
        await message.answer(_("That person is already an organiser."))
        return
    await commit(session)
    log.info("organiser %s added by %s", telegram_id, actor)
    member = await get_member(session, telegram_id)
    with contextlib.suppress(TelegramAPIError):  # they may not have opened the chat yet
        await publish_organiser_menu(
            bot, i18n, telegram_id, member.locale if member else i18n.default_locale
        )
    await message.answer(
        _("Added to the organisers. Their menu now shows the organisers' commands.")
    )


# Only organisers' forwards are read as promotions; anyone else's fall through to the catch-all.
@router.message(Forwarded(), MagicData(F.is_organiser))
async def on_forwarded(message: Message, session: AsyncSession, bot: Bot, i18n: I18n) -> None:
    """An organiser forwards a member's message to make that member an organiser."""
    origin = message.forward_origin
    sender = getattr(origin, "sender_user", None)
    if sender is None:
        await message.answer(
            _(
                "I can't see who wrote that message (their privacy settings hide it). Please use /admins add <Telegram id>."
            )
        )
        return
    await _promote(
        message, session, bot, i18n, sender.id, message.from_user.id if message.from_user else 0
    )
