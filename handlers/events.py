"""Organisers' special events and what a meeting leaves behind.

- /event: a conference day, a memorial service, an excursion or another event beside the
  monthly meeting, with its own time, length, link or place (and, through /review and
  /programme, its own programme). Before it is announced the organiser sees what its
  fixed hour means for members: how many it puts at night or outside their hours.
- /events: every coming meeting and event, each with its link, place, programme, cancel.
- /summary: after a meeting, its recording and a short summary, sent to those who said
  they would come or said they were there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member
from db.unit_of_work import commit
from ground.clock import Clock
from ground.settings import Settings
from handlers.filters import TypedAnswer
from handlers.gates import organisers as router
from handlers.keyboards import Keyboard
from handlers.meeting_time import parse_meeting_time
from handlers.organisers import meeting_error_text, zoom_note
from handlers.programme_publish import release_programme
from handlers.replies import clip, show
from handlers.talk_review import meeting_label, programme_screen
from scheduling.geo import localtime
from scheduling.meetings import zoom
from scheduling.meetings.event_text import KIND_LABELS
from scheduling.meetings.lifecycle import (
    EVENT_KINDS,
    MAX_TITLE,
    MeetingError,
    cancel_meeting,
    create_meeting,
    set_link,
    set_place,
    set_summary,
    summary_recipients,
    upcoming_meetings,
)
from scheduling.meetings.links import LinkError, validate_link
from scheduling.meetings.local_meaning import hour_toll

DURATIONS = (60, 90, 120, 180, 240, 360, 480)
SKIP = "-"
MAX_PLACE = 300
MAX_SUMMARY = 3000
SUMMARY_WITHIN = timedelta(days=60)


class EventCb(CallbackData, prefix="evt"):
    """kind | length | create | stop; /events: manage | link | place | programme | cancel |
    confirm_cancel; /summary: pick | send."""

    action: str
    value: str = ""
    meeting_id: int = 0


class EventSt(StatesGroup):
    title = State()
    when = State()
    where = State()
    link = State()  # /events: a new link
    place = State()  # /events: a new place
    recording = State()  # /summary
    summary = State()


def _cancel_button(builder: Keyboard) -> None:
    builder.button(text=_("Cancel"), callback_data=EventCb(action="stop"))


def _hours(minutes: int) -> str:
    """ "1,5 часа", "1.5 hours", "2 hours": the number in the reader's own notation."""
    hours = minutes / 60
    whole = hours == int(hours)
    shown = format_decimal(hours, locale=localtime.babel_locale(get_i18n().current_locale))
    # A fraction takes the form a plural of "few" takes (1,5 часа; 1.5 hours).
    return ngettext("{count} hour", "{count} hours", int(hours) if whole else 2).format(count=shown)


# ---------------------------------------------------------------- /event


@router.message(Command("event"))
async def cmd_event(message: Message, state: FSMContext) -> None:
    await state.clear()
    builder = Keyboard()
    for kind in EVENT_KINDS:
        builder.button(text=_(KIND_LABELS[kind]), callback_data=EventCb(action="kind", value=kind))
    _cancel_button(builder)
    builder.adjust(2)
    await message.answer(
        _("A special event beside the monthly meeting. What kind of event is it?"),
        reply_markup=builder.as_markup(),
    )


@router.message(StateFilter(EventSt.title), TypedAnswer())
async def on_event_title(message: Message, state: FSMContext) -> None:
    title = " ".join((message.text or "").split())
    if len(title) > MAX_TITLE:
        await message.answer(
            _("That title is too long; please keep it under {limit} characters.").format(
                limit=MAX_TITLE
            )
        )
        return
    await state.update_data(event_title=title)
    await state.set_state(EventSt.when)
    await message.answer(
        _(
            "When does it begin? Write the date and time like this: 2027-02-20 10:00 "
            "Europe/Moscow (the zone is optional: yours is used)."
        )
    )


@router.message(StateFilter(EventSt.when), TypedAnswer())
async def on_event_when(
    message: Message, state: FSMContext, member: Member | None, clock: Clock
) -> None:
    parsed = parse_meeting_time(message.text, member)
    if parsed.error or parsed.starts_at is None:
        await message.answer((parsed.error or "").replace("/meeting ", ""))
        return
    if parsed.starts_at <= clock.now():
        await message.answer(_("That time has already passed. Please choose a future time."))
        return
    await state.update_data(event_start=parsed.starts_at.isoformat())
    builder = Keyboard()
    for minutes in DURATIONS:
        builder.button(
            text=_hours(minutes), callback_data=EventCb(action="length", value=str(minutes))
        )
    _cancel_button(builder)
    builder.adjust(4)
    await message.answer(_("How long does it last?"), reply_markup=builder.as_markup())


@router.message(StateFilter(EventSt.where), TypedAnswer())
async def on_event_where(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    text = " ".join((message.text or "").split())
    link = place = None
    if text.lower().startswith(("https://", "http://")):
        try:
            link = validate_link(text)
        except LinkError:
            await message.answer(
                _("That does not look like a valid link. Only https:// links are accepted.")
            )
            return
    elif text != SKIP:
        if len(text) > MAX_PLACE:
            await message.answer(
                _("That is too long; please keep it under {limit} characters.").format(
                    limit=MAX_PLACE
                )
            )
            return
        place = text
    await state.update_data(event_link=link, event_place=place)
    await show(message, *await event_preview(session, state, member))


async def event_preview(
    session: AsyncSession, state: FSMContext, member: Member | None
) -> tuple[str, InlineKeyboardMarkup]:
    data = await state.get_data()
    starts_at = datetime.fromisoformat(data["event_start"])
    length = int(data["event_length"])
    zone = (member.zone if member else None) or "UTC"
    toll = await hour_toll(session, starts_at, length)
    lines = [
        _(KIND_LABELS[data["event_kind"]])
        + (f": «{data['event_title']}»" if data["event_title"] else ""),
        _("Begins: {when} ({zone}), lasts {length}.").format(
            when=localtime.format_meeting_time(starts_at, zone, member.locale if member else "en"),
            zone=zone,
            length=_hours(length),
        ),
    ]
    if data.get("event_link"):
        lines.append(_("Link: {link}").format(link=data["event_link"]))
    if data.get("event_place"):
        lines.append(_("Place: {place}").format(place=data["event_place"]))
    lines.append(
        _(
            "For members this fixed hour means: at night for {nights}, outside their hours for "
            "{outside}, of {members}. Each will see what it means for them."
        ).format(nights=toll.nights, outside=toll.outside_hours, members=toll.members)
    )
    builder = Keyboard()
    builder.button(text=_("✅ Create and announce"), callback_data=EventCb(action="create"))
    _cancel_button(builder)
    return "\n".join(lines), builder.as_markup()


async def _create_event(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, now: datetime
) -> None:
    data = await state.get_data()
    if "event_length" not in data or "event_start" not in data:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    try:
        meeting = await create_meeting(
            session,
            datetime.fromisoformat(data["event_start"]),
            now=now,
            duration_min=int(data["event_length"]),
            kind=data["event_kind"],
            title=data.get("event_title") or None,
            place=data.get("event_place"),
        )
        if data.get("event_link"):
            await set_link(session, meeting, data["event_link"], now=now)
        await commit(session)
    except MeetingError as exc:
        await show(query, meeting_error_text(exc))
        return
    await state.clear()
    await show(
        query,
        _(
            "The event is set. Members are being told in their own time. /events manages it; "
            "/review and /programme fill its programme."
        ),
    )


# ---------------------------------------------------------------- /events


@router.message(Command("events"))
async def cmd_events(
    message: Message, session: AsyncSession, member: Member | None, clock: Clock, state: FSMContext
) -> None:
    await state.clear()
    await show(message, *await events_screen(session, member, clock.now()))


async def events_screen(
    session: AsyncSession, member: Member | None, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    meetings = await upcoming_meetings(session, now)
    if not meetings:
        return _("No meeting or event is set. /meeting or /event sets one."), None
    builder = Keyboard()
    for meeting in meetings[:10]:
        builder.button(
            text=meeting_label(meeting, member),
            callback_data=EventCb(action="manage", meeting_id=meeting.id),
        )
    return _("Coming meetings and events. Choose one to manage:"), builder.as_markup()


def manage_keyboard(meeting: Meeting) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for label, action in (
        (_("🔗 Link"), "link"),
        (_("📍 Place"), "place"),
        (_("📋 Programme"), "programme"),
        (_("❌ Cancel it"), "cancel"),
    ):
        builder.button(text=label, callback_data=EventCb(action=action, meeting_id=meeting.id))
    builder.adjust(2)
    return builder.as_markup()


async def _manage(
    query: CallbackQuery,
    data: EventCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    now: datetime,
    settings: Settings,
) -> None:
    meeting = await session.get(Meeting, data.meeting_id)
    if meeting is None or meeting.status != "scheduled":
        await query.answer(_("That meeting is cancelled."), show_alert=True)
        return
    if data.action == "manage":
        await show(query, meeting_label(meeting, member), manage_keyboard(meeting))
    elif data.action == "link":
        await state.set_state(EventSt.link)
        await state.update_data(manage_meeting=meeting.id)
        await show(query, _("Please send the link (https://...)."))
    elif data.action == "place":
        await state.set_state(EventSt.place)
        await state.update_data(manage_meeting=meeting.id)
        await show(query, _("Please write the address where it is held; “-” clears it."))
    elif data.action == "programme":
        await show(query, *await programme_screen(session, meeting, member))
    elif data.action == "cancel":
        builder = Keyboard()
        builder.button(
            text=_("Yes, cancel it"),
            callback_data=EventCb(action="confirm_cancel", meeting_id=meeting.id),
        )
        builder.button(text=_("No"), callback_data=EventCb(action="stop"))
        await show(
            query,
            _("Cancel {event} and tell everyone?").format(event=meeting_label(meeting, member)),
            builder.as_markup(),
        )
    elif data.action == "confirm_cancel":
        await cancel_meeting(session, meeting, "", now=now)
        await release_programme(session, meeting.id, now=now)
        await commit(session)
        outcome = await zoom.on_meeting_cancelled(meeting, settings)
        await show(
            query, _("It is cancelled. Everyone is being told.") + zoom_note("delete", outcome)
        )


async def _managed(state: FSMContext, session: AsyncSession) -> Meeting | None:
    meeting_id = (await state.get_data()).get("manage_meeting")
    meeting = await session.get(Meeting, meeting_id) if isinstance(meeting_id, int) else None
    return meeting if meeting is not None and meeting.status == "scheduled" else None


@router.message(StateFilter(EventSt.link), TypedAnswer())
async def on_event_link(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    meeting = await _managed(state, session)
    if meeting is None:
        await state.clear()
        await message.answer(_("That meeting is cancelled."))
        return
    try:
        link = validate_link(message.text or "")
    except LinkError:
        await message.answer(
            _("That does not look like a valid link. Only https:// links are accepted.")
        )
        return
    await set_link(session, meeting, link, now=clock.now())
    await commit(session)
    await state.clear()
    await message.answer(_("Link saved. Members get it with the reminders and in /next."))


@router.message(StateFilter(EventSt.place), TypedAnswer())
async def on_event_place(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    meeting = await _managed(state, session)
    if meeting is None:
        await state.clear()
        await message.answer(_("That meeting is cancelled."))
        return
    text = " ".join((message.text or "").split())
    await set_place(session, meeting, "" if text == SKIP else text[:MAX_PLACE], now=clock.now())
    await commit(session)
    await state.clear()
    await message.answer(_("Place saved."))


# ---------------------------------------------------------------- /summary


@router.message(Command("summary"))
async def cmd_summary(
    message: Message, session: AsyncSession, member: Member | None, clock: Clock, state: FSMContext
) -> None:
    await state.clear()
    now = clock.now()
    recent = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.status == "scheduled",
                Meeting.starts_at <= now,
                Meeting.starts_at >= now - SUMMARY_WITHIN,
            )
            .order_by(Meeting.starts_at.desc())
            .limit(6)
        )
    )
    if not recent:
        await message.answer(_("No meeting has taken place in the last two months."))
        return
    builder = Keyboard()
    for meeting in recent:
        builder.button(
            text=meeting_label(meeting, member),
            callback_data=EventCb(action="pick", meeting_id=meeting.id),
        )
    await message.answer(_("Which meeting is the summary for?"), reply_markup=builder.as_markup())


@router.message(StateFilter(EventSt.recording), TypedAnswer())
async def on_recording(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    link = None
    if text != SKIP:
        try:
            link = validate_link(text)
        except LinkError:
            await message.answer(
                _("That does not look like a valid link. Only https:// links are accepted.")
                + " "
                + _("“-” if there is no recording.")
            )
            return
    await state.update_data(summary_link=link)
    await state.set_state(EventSt.summary)
    await message.answer(_("Now a short summary in a few sentences (or “-”)."))


@router.message(StateFilter(EventSt.summary), TypedAnswer())
async def on_summary_text(message: Message, state: FSMContext, session: AsyncSession) -> None:
    text = (message.text or "").strip()
    if len(text) > MAX_SUMMARY:
        await message.answer(
            _("That is too long; please keep it under {limit} characters.").format(
                limit=MAX_SUMMARY
            )
        )
        return
    data = await state.get_data()
    summary = None if text == SKIP else text
    if not (summary or data.get("summary_link")):
        await message.answer(
            _("Please give a recording link or a summary: there is nothing to send.")
        )
        return
    meeting = await session.get(Meeting, data.get("summary_meeting") or 0)
    if meeting is None:
        await state.clear()
        await message.answer(_("That meeting no longer exists."))
        return
    await state.update_data(summary_text=summary)
    count = len(await summary_recipients(session, meeting))
    builder = Keyboard()
    builder.button(text=_("Send"), callback_data=EventCb(action="send", meeting_id=meeting.id))
    _cancel_button(builder)
    preview = ngettext(
        "This goes to {count} member who said they would come or said they were there:",
        "This goes to {count} members who said they would come or said they were there:",
        count,
    ).format(count=count)
    body = "\n\n".join(p for p in (summary, data.get("summary_link")) if p)
    await message.answer(preview + "\n\n" + clip(body, 3500), reply_markup=builder.as_markup())


# ---------------------------------------------------------------- buttons


@router.callback_query(EventCb.filter())
async def on_event_button(
    query: CallbackQuery,
    callback_data: EventCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    settings: Settings,
) -> None:
    action, now = callback_data.action, clock.now()
    if action == "stop":
        await state.clear()
        await show(query, _("Nothing was changed."))
    elif action == "kind" and callback_data.value in EVENT_KINDS:
        await state.clear()
        await state.update_data(event_kind=callback_data.value)
        await state.set_state(EventSt.title)
        await show(
            query,
            _("What is it called? For example: Day of memory at the Harbin cemetery."),
        )
    elif action == "length" and callback_data.value.isdigit():
        if "event_start" not in await state.get_data():
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        await state.update_data(event_length=int(callback_data.value))
        await state.set_state(EventSt.where)
        await show(
            query,
            _(
                "Where? Send the link for an online event (https://...), the address for one "
                "held in person, or “-” to add it later."
            ),
        )
    elif action == "create":
        await _create_event(query, state, session, now)
    elif action == "pick":
        meeting = await session.get(Meeting, callback_data.meeting_id)
        if meeting is None:
            await query.answer(_("That meeting no longer exists."), show_alert=True)
            return
        await state.clear()
        await state.update_data(summary_meeting=meeting.id)
        await state.set_state(EventSt.recording)
        await show(
            query,
            _("Send the link to the recording (https://...), or “-” if there is none."),
        )
    elif action == "send":
        await _send_summary(query, state, session, callback_data.meeting_id, now)
    else:
        await _manage(query, callback_data, state, session, member, now, settings)


async def _send_summary(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, meeting_id: int, now: datetime
) -> None:
    data = await state.get_data()
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or data.get("summary_meeting") != meeting_id:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    try:
        count = await set_summary(
            session,
            meeting,
            recording_link=data.get("summary_link"),
            summary=data.get("summary_text"),
            now=now,
        )
    except MeetingError as exc:
        await show(query, meeting_error_text(exc))
        return
    await commit(session)
    await state.clear()
    await show(
        query,
        ngettext(
            "Saved. The summary is going to {count} member.",
            "Saved. The summary is going to {count} members.",
            count,
        ).format(count=count),
    )
