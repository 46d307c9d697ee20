"""Members: /next shows the coming meeting and special events in their own time; RSVP
buttons answer each."""

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
from handlers.gates import registered
from handlers.outbound import markup_of
from handlers.replies import answer_once, show
from scheduling.meetings.event_text import event_name, is_event
from scheduling.meetings.lifecycle import (
    MeetingError,
    record_attendance,
    record_rsvp,
    rsvp_answer,
    upcoming_meetings,
)
from scheduling.meetings.notices import (
    YOUR_ANSWER,
    answer_line,
    meeting_details,
    rsvp_buttons,
)

router = Router(name="meetings")

ANSWER_TEXTS = {
    "yes": N_("Thank you! See you at the meeting."),
    "maybe": N_("Noted: maybe. I will remind you before the meeting."),
    "no": N_("Noted: you can't come this time. No more reminders for this meeting."),
}


MAX_SHOWN = 5


def next_text(i18n: I18n, member: Member, meeting: Meeting) -> str:
    """A meeting or special event as /next shows it, in the member's time and language."""
    if is_event(meeting):
        heading = _("Special event: {event}").format(event=event_name(_, meeting))
    else:
        heading = _("The next club meeting:")
    return heading + "\n" + meeting_details(i18n, member, meeting)


@router.message(Command("next"))
@registered
async def cmd_next(
    message: Message, session: AsyncSession, member: Member, i18n: I18n, clock: Clock
) -> None:
    """Every coming meeting and event, each with its own RSVP buttons."""
    meetings = await upcoming_meetings(session, clock.now())
    if not meetings:
        await message.answer(_("No meeting is set yet. I will tell you as soon as it is."))
        return
    for meeting in meetings[:MAX_SHOWN]:
        text = next_text(i18n, member, meeting)
        answer = await rsvp_answer(session, meeting, member.id)
        if answer is not None:  # what they said before shows, on the button and in words
            text += "\n\n" + answer_line(i18n, member.locale, answer)
        buttons = rsvp_buttons(i18n, member.locale, meeting, chosen=answer)
        await message.answer(text, reply_markup=markup_of(Outgoing(text, buttons)))


@router.callback_query(RsvpCb.filter())
@registered
async def on_rsvp(
    query: CallbackQuery,
    callback_data: RsvpCb,
    session: AsyncSession,
    member: Member,
    clock: Clock,
    i18n: I18n,
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
    await answer_once(query, _(ANSWER_TEXTS[callback_data.answer]))
    # The message itself now says the answer, and its button is marked: an older member
    # need not remember a popup that vanished.
    line = answer_line(i18n, member.locale, callback_data.answer)
    shown = query.message.text if isinstance(query.message, Message) else None
    text = without_answer_line(shown or next_text(i18n, member, meeting), i18n, member.locale)
    buttons = rsvp_buttons(i18n, member.locale, meeting, chosen=callback_data.answer)
    await show(query, text + "\n\n" + line, markup_of(Outgoing(text, buttons)))


def without_answer_line(text: str, i18n: I18n, locale: str) -> str:
    """The message as it was before an earlier answer was added to it."""
    prefix = i18n.gettext(YOUR_ANSWER, locale=locale).split("{", 1)[0]
    head, _sep, last = text.rpartition("\n\n")
    return head if head and last.startswith(prefix) else text


@router.callback_query(AttendCb.filter())
@registered
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
