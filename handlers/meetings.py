"""Members: /next shows the coming meeting in their own time; RSVP buttons answer it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member
from db.unit_of_work import commit
from delivery.messages import Outgoing
from ground.clock import Clock
from ground.i18n import N_
from handlers.callbacks import AttendCb, RsvpCb
from handlers.gates import REGISTERED
from handlers.outbound import markup_of
from handlers.replies import show
from scheduling.meetings.lifecycle import MeetingError, next_meeting, record_attendance, record_rsvp
from scheduling.meetings.notices import meeting_details, rsvp_buttons

router = Router(name="meetings")

ANSWER_TEXTS = {
    "yes": N_("Thank you! See you at the meeting."),
    "maybe": N_("Noted: maybe. I will remind you before the meeting."),
    "no": N_("Noted: you can't come this time. No more reminders for this meeting."),
}


@router.message(Command("next"), flags=REGISTERED)
async def cmd_next(
    message: Message, session: AsyncSession, member: Member, i18n: I18n, clock: Clock
) -> None:
    meeting = await next_meeting(session, clock.now())
    if meeting is None:
        await message.answer(_("No meeting is set yet. I will tell you as soon as it is."))
        return
    text = _("The next club meeting:") + "\n" + meeting_details(i18n, member, meeting)
    buttons = rsvp_buttons(i18n, member.locale, meeting)
    await message.answer(text, reply_markup=markup_of(Outgoing(text, buttons)))


@router.callback_query(RsvpCb.filter(), flags=REGISTERED)
async def on_rsvp(
    query: CallbackQuery,
    callback_data: RsvpCb,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting_id)
    if meeting is None:
        await query.answer(_("This meeting no longer exists."), show_alert=True)
        return
    try:
        await record_rsvp(session, meeting, member, callback_data.answer, now=clock.now())
        await commit(session)
    except MeetingError as exc:
        reasons = {
            "cancelled": _("This meeting was cancelled, so there is nothing to answer."),
            "past": _("This meeting is already over."),
        }
        await query.answer(
            reasons.get(exc.reason, _("This button is no longer active.")), show_alert=True
        )
        return
    await query.answer(_(ANSWER_TEXTS[callback_data.answer]))


@router.callback_query(AttendCb.filter(), flags=REGISTERED)
async def on_attendance(
    query: CallbackQuery,
    callback_data: AttendCb,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting_id)
    if meeting is None:
        await query.answer(_("This meeting no longer exists."), show_alert=True)
        return
    try:
        await record_attendance(session, meeting, member, callback_data.attended, now=clock.now())
        await commit(session)
    except MeetingError:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await show(query, _("Thank you! Noted."))
