"""/calendar: a member's private feed address, the next meeting as a file, and a reset."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member
from db.unit_of_work import commit
from ground.clock import Clock
from ground.settings import Settings
from handlers.gates import registered
from handlers.keyboards import Keyboard
from scheduling.feeds.addresses import feed_urls
from scheduling.feeds.calendar import render_calendar, single_event_filename
from scheduling.feeds.store import ensure_token, reset_token
from scheduling.meetings.lifecycle import next_meeting

router = Router(name="calendar")


class CalendarCb(CallbackData, prefix="cal"):
    action: str


def calendar_text(settings: Settings, token: str) -> str:
    https_url, webcal_url = feed_urls(settings.public_base_url, token)
    lines = [
        _(
            "Your personal calendar of club meetings. Subscribe once: new, moved and "
            "cancelled meetings will appear in it by themselves."
        ),
        "",
        _("Link: {url}").format(url=https_url),
        _("For Apple devices: {url}").format(url=webcal_url),
        "",
        _(
            "Google Calendar: on a computer open calendar.google.com, "
            "“Other calendars” → “+” → “From URL”, paste the link."
        ),
        _(
            "Apple Calendar: tap the webcal link, or choose File → New Calendar "
            "Subscription and paste it."
        ),
        _("Outlook: “Add calendar” → “Subscribe from web”, paste the link."),
        "",
        _(
            "Keep this address to yourself: it shows the meeting links. "
            "If it has leaked, make a new one with the button below."
        ),
    ]
    return "\n".join(lines)


def reset_markup() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("Make a new address"), callback_data=CalendarCb(action="reset"))
    return builder.as_markup()


@router.message(Command("calendar"))
@registered
async def cmd_calendar(
    message: Message,
    session: AsyncSession,
    member: Member,
    settings: Settings,
    i18n: I18n,
    clock: Clock,
) -> None:
    token = await ensure_token(session, member)
    await commit(session)
    await message.answer(calendar_text(settings, token), reply_markup=reset_markup())
    meeting = await next_meeting(session, clock.now())
    if meeting is None:
        return
    locale = member.locale
    body = render_calendar([meeting], lambda m: i18n.gettext(m, locale=locale), "private")
    await message.answer_document(
        BufferedInputFile(body, filename=single_event_filename(meeting)),
        caption=_("The next meeting as a file: open it to add just this one meeting."),
    )


@router.callback_query(CalendarCb.filter())
@registered
async def on_reset(
    query: CallbackQuery,
    callback_data: CalendarCb,
    session: AsyncSession,
    member: Member,
    settings: Settings,
) -> None:
    if callback_data.action != "reset":
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    token = await reset_token(session, member)
    # The new address reaches the member before the old one stops working: if it cannot
    # be shown (the message is too old to edit), it comes as a new message; if even that
    # fails, nothing is committed and the old address keeps working.
    text = calendar_text(settings, token)
    shown = False
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=reset_markup())
            shown = True
        except TelegramBadRequest:
            pass
    if not shown:
        await query.bot.send_message(member.telegram_id, text, reply_markup=reset_markup())  # type: ignore[union-attr]
    await commit(session)
    await query.answer(_("Done: the old address no longer works."))
