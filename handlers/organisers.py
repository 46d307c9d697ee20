"""Organisers' meeting commands: /meeting, /reschedule, /link, /theme, /cancelmeeting, /broadcast."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from archive.prompts import queue_prompts
from db.models import Member
from db.unit_of_work import commit
from delivery.broadcasts import (
    AlreadyQueued,
    queue_broadcast,
    recipients_count,
)
from ground.clock import Clock
from ground.context import AppContext
from ground.settings import Settings
from handlers.callbacks import MeetingAdminCb
from handlers.gates import organisers as router
from handlers.keyboards import Keyboard
from handlers.meeting_time import parse_meeting_time
from handlers.programme_publish import release_programme
from handlers.replies import clip, in_brackets, show
from scheduling.geo import localtime
from scheduling.meetings import zoom
from scheduling.meetings.lifecycle import (
    MeetingError,
    cancel_meeting,
    create_meeting,
    next_meeting,
    reschedule_meeting,
    set_link,
    set_theme,
)
from scheduling.meetings.links import LinkError, validate_link

log = logging.getLogger(__name__)

MAX_THEME = 300
MAX_BROADCAST = 3500


def meeting_error_text(error: MeetingError) -> str:
    texts = {
        "past": _("That time has already passed. Please choose a future time."),
        "cancelled": _("That meeting is cancelled."),
        "same_time": _("The meeting is already at that time."),
        "too_far": _("That is too far ahead: a meeting can be set up to three years from now."),
    }
    return texts.get(error.reason, _("That can't be done."))


def zoom_note(step: str, outcome: zoom.ZoomOutcome) -> str:
    """One line for the organiser about the Zoom side; empty when Zoom is not in use."""
    if outcome is zoom.ZoomOutcome.OFF:
        return ""
    texts = {
        ("create", True): _("Zoom meeting created; its link is saved and members get it."),
        ("create", False): _(
            "Zoom could not create the meeting, so there is no link yet. Please set it by hand with /link."
        ),
        ("move", True): _("The Zoom meeting is moved too."),
        ("move", False): _(
            "Zoom could not move its meeting. Please change the time in Zoom, or set another link with /link."
        ),
        ("topic", True): _("The Zoom meeting has the new theme as its topic."),
        ("topic", False): _("Zoom could not change its meeting's topic; the old one stays there."),
        ("delete", True): _("The Zoom meeting is deleted too."),
        ("delete", False): _(
            "Zoom could not delete its meeting; please delete it in Zoom by hand."
        ),
    }
    return "\n" + texts[(step, outcome is zoom.ZoomOutcome.DONE)]


def _when(member: Member | None, starts_at: datetime) -> str:
    """The time in the organiser's zone (UTC if they never said), in the reply's language."""
    zone = (member.zone if member else None) or "UTC"
    locale = get_i18n().current_locale
    return localtime.format_meeting_time(starts_at, zone, locale) + in_brackets(zone, locale)


@router.message(Command("meeting"))
async def cmd_meeting(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    settings: Settings,
) -> None:
    parsed = parse_meeting_time(command.args, member)
    if parsed.error or parsed.starts_at is None:
        await message.answer(parsed.error or "")
        return
    now = clock.now()
    upcoming = await next_meeting(session, now)
    if upcoming is not None:
        await message.answer(
            _(
                "A meeting is already set for {when}. Use /reschedule to move it or /cancelmeeting to cancel it."
            ).format(when=_when(member, upcoming.starts_at))
        )
        return
    try:
        meeting = await create_meeting(session, parsed.starts_at, now=now)
        await commit(session)
    except MeetingError as exc:
        await message.answer(meeting_error_text(exc))
        return
    outcome = await zoom.on_meeting_confirmed(session, meeting, settings, now=now)
    await commit(session)
    await message.answer(
        _(
            "The meeting is set for {when}. Members are being told in their own time. Set the link with /link."
        ).format(when=_when(member, meeting.starts_at))
        + zoom_note("create", outcome)
    )


@router.message(Command("reschedule"))
async def cmd_reschedule(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    settings: Settings,
) -> None:
    now = clock.now()
    meeting = await next_meeting(session, now)
    if meeting is None:
        await message.answer(_("No meeting is set. Use /meeting first."))
        return
    parsed = parse_meeting_time(command.args, member)
    if parsed.error or parsed.starts_at is None:
        await message.answer((parsed.error or "").replace("/meeting", "/reschedule"))
        return
    try:
        await reschedule_meeting(session, meeting, parsed.starts_at, now=now)
        await commit(session)
    except MeetingError as exc:
        await message.answer(meeting_error_text(exc))
        return
    outcome = await zoom.on_meeting_rescheduled(session, meeting, settings, now=now)
    await commit(session)
    await message.answer(
        _("The meeting is moved to {when}. Everyone is being told.").format(
            when=_when(member, meeting.starts_at)
        )
        + zoom_note("move", outcome)
    )


@router.message(Command("link"))
async def cmd_link(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock
) -> None:
    now = clock.now()
    meeting = await next_meeting(session, now)
    if meeting is None:
        await message.answer(_("No meeting is set. Use /meeting first."))
        return
    try:
        link = validate_link(command.args or "")
    except LinkError as exc:
        reasons = {
            "empty": _("Please write the link after the command: /link https://..."),
            "spaces": _("A link cannot contain spaces. Please check it."),
            "not_https": _("Only https:// links are accepted."),
        }
        await message.answer(reasons.get(exc.reason, _("That does not look like a valid link.")))
        return
    await set_link(session, meeting, link, now=now)
    await commit(session)
    await message.answer(_("Link saved. Members get it with the reminders and in /next."))


@router.message(Command("theme"))
async def cmd_theme(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    now = clock.now()
    meeting = await next_meeting(session, now)
    theme = " ".join((command.args or "").split())
    if meeting is None:
        await message.answer(_("No meeting is set. Use /meeting first."))
        return
    if not theme:
        await message.answer(
            _("Please write the theme after the command: /theme Old Harbin streets")
        )
        return
    if len(theme) > MAX_THEME:
        await message.answer(
            _("The theme is too long; please keep it under {limit} characters.").format(
                limit=MAX_THEME
            )
        )
        return
    await set_theme(session, meeting, theme, now=now)
    await queue_prompts(session, meeting, now=now)  # the memoir invitation (issue 6)
    await commit(session)
    outcome = await zoom.on_theme_changed(meeting, settings)
    await message.answer(
        _("Theme saved: {theme}").format(theme=theme) + zoom_note("topic", outcome)
    )


@router.message(Command("cancelmeeting"))
async def cmd_cancel_meeting(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member | None,
    state: FSMContext,
    clock: Clock,
) -> None:
    meeting = await next_meeting(session, clock.now())
    if meeting is None:
        await message.answer(_("No meeting is set. Use /meeting first."))
        return
    reason = " ".join((command.args or "").split())[:MAX_THEME]
    # Kept in the dialogue state (memory or Redis), so the button works on any instance.
    await state.update_data(cancel_reason=reason)
    builder = Keyboard()
    builder.button(
        text=_("Yes, cancel it"), callback_data=MeetingAdminCb(action="cancel", ref=str(meeting.id))
    )
    builder.button(text=_("No"), callback_data=MeetingAdminCb(action="keep"))
    text = _("Cancel the meeting of {when} and tell everyone?").format(
        when=_when(member, meeting.starts_at)
    )
    if reason:
        text += "\n" + _("Reason: {reason}").format(reason=reason)
    else:
        text += "\n" + _("(You can give a reason: /cancelmeeting the host is ill)")
    await message.answer(text, reply_markup=builder.as_markup())


@router.message(Command("broadcast"))
async def cmd_broadcast(
    message: Message, command: CommandObject, session: AsyncSession, state: FSMContext
) -> None:
    text = (command.args or "").strip()
    if not text:
        await message.answer(
            _("Please write the announcement after the command: /broadcast Dear friends, ...")
        )
        return
    if len(text) > MAX_BROADCAST:
        await message.answer(
            _("The announcement is too long; please keep it under {limit} characters.").format(
                limit=MAX_BROADCAST
            )
        )
        return
    ref = secrets.token_hex(6)
    await state.update_data(broadcast={"ref": ref, "text": text})
    count = await recipients_count(session)
    builder = Keyboard()
    builder.button(text=_("Send"), callback_data=MeetingAdminCb(action="broadcast", ref=ref))
    builder.button(text=_("Don't send"), callback_data=MeetingAdminCb(action="drop"))
    preview = (
        ngettext(
            "Preview. This goes to {count} member:", "Preview. This goes to {count} members:", count
        ).format(count=count)
        + "\n\n"
        + clip(text, MAX_BROADCAST)
    )
    await message.answer(preview, reply_markup=builder.as_markup())


@router.callback_query(MeetingAdminCb.filter())
async def on_meeting_admin(
    query: CallbackQuery,
    callback_data: MeetingAdminCb,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    app: AppContext,
    i18n: I18n,
    member: Member | None,
) -> None:
    data = await state.get_data()
    if callback_data.action == "keep":  # "No" to cancelling the meeting
        await state.update_data(cancel_reason=None)
        await show(query, _("Nothing was changed."))
        return
    if callback_data.action == "drop":  # "Don't send" a broadcast
        await state.update_data(broadcast=None)
        await show(query, _("Nothing was sent."))
        return
    if callback_data.action == "cancel":
        meeting = await next_meeting(session, clock.now())
        if meeting is None or str(meeting.id) != callback_data.ref:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        try:
            await cancel_meeting(session, meeting, data.get("cancel_reason") or "", now=clock.now())
            await release_programme(session, meeting.id, now=clock.now())  # talks back to /review
            await commit(session)
        except MeetingError as exc:
            await show(query, meeting_error_text(exc))
            return
        await state.update_data(cancel_reason=None)
        outcome = await zoom.on_meeting_cancelled(meeting, app.settings)
        await show(
            query,
            _("The meeting is cancelled. Everyone is being told.") + zoom_note("delete", outcome),
        )
        return
    pending = data.get("broadcast") or {}
    if callback_data.action == "broadcast" and pending.get("ref") == callback_data.ref:
        await state.update_data(broadcast=None)
        report_to = (query.from_user.id, i18n.current_locale) if query.from_user else None
        try:
            count = await queue_broadcast(
                session,
                callback_data.ref,
                pending["text"],
                now=clock.now(),
                report_to=report_to,
                club=app.settings.club_name,
                sender_name=member.name if member else None,
            )
            await commit(session)
        except AlreadyQueued:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        await show(
            query,
            ngettext(
                "Sending to {count} member. I will report when it is done.",
                "Sending to {count} members. I will report when it is done.",
                count,
            ).format(count=count),
        )
        return
    await query.answer(_("This button is no longer active."), show_alert=True)
