"""Organisers and talks: the proposals' queue under /review (accept into a slot of a
meeting's programme, ask for changes, decline), and /programme (order, minutes, take a
talk out). Every change of a programme is published through handlers/programme_publish.py
in the same transaction; members hear of it once, after a quiet period.

All handlers here live on the organisers' router (checked on every use).
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member, Talk
from db.unit_of_work import commit
from ground.clock import Clock
from ground.context import AppContext
from handlers.files import store_of
from handlers.filters import TypedAnswer
from handlers.gates import organisers as router
from handlers.keyboards import Keyboard
from handlers.memoir_review import REVIEW_QUEUES
from handlers.memoirs import send_memoir_media
from handlers.programme_publish import publish
from handlers.replies import clip, show
from handlers.talks import MINUTE_CHOICES, talk_card, talk_error_text
from programme import slots, talks
from scheduling.geo import localtime
from scheduling.meetings import agenda
from scheduling.meetings.event_text import event_name, is_event

log = logging.getLogger(__name__)


class RevTalkCb(CallbackData, prefix="rvt"):
    """next | accept | meeting | slot | minutes | changes | decline | skip; programme:
    show | up | down | time | out."""

    action: str
    talk_id: int = 0
    meeting_id: int = 0
    value: int = 0


class RevTalkSt(StatesGroup):
    changes = State()  # the note a speaker receives
    decline = State()
    minutes = State()  # typed minutes, accepting (data: talk, meeting, slot)
    set_minutes = State()  # typed minutes, in /programme


def _zone_locale(member: Member | None) -> tuple[str, str]:
    return (member.zone if member else None) or "UTC", (member.locale if member else "en")


def meeting_label(meeting: Meeting, member: Member | None) -> str:
    zone, locale = _zone_locale(member)
    when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
    name = event_name(_, meeting) if is_event(meeting) else (meeting.theme or _("club meeting"))
    return f"{when} · {clip(name, 40)}"


# ---------------------------------------------------------------- the queue


async def talk_queue(session: AsyncSession) -> tuple[str, InlineKeyboardButton] | None:
    waiting = await talks.count_proposed(session)
    if not waiting:
        return None
    text = _("Talk proposals waiting: {count}.").format(count=waiting)
    button = InlineKeyboardButton(
        text=_("🎤 Review talk proposals"), callback_data=RevTalkCb(action="next").pack()
    )
    return text, button


REVIEW_QUEUES.append(talk_queue)


def decision_keyboard(talk_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("✅ Accept into a programme"),
        callback_data=RevTalkCb(action="accept", talk_id=talk_id),
    )
    builder.button(
        text=_("✏️ Ask for changes"), callback_data=RevTalkCb(action="changes", talk_id=talk_id)
    )
    builder.button(text=_("❌ Decline"), callback_data=RevTalkCb(action="decline", talk_id=talk_id))
    builder.button(text=_("⏭ Next"), callback_data=RevTalkCb(action="skip", talk_id=talk_id))
    builder.adjust(1, 2, 1)
    return builder.as_markup()


async def show_next_talk(
    event: Message | CallbackQuery,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    after: int = 0,
    *,
    answered: bool = False,
) -> None:
    """The next proposal as new messages (the one pressed keeps what it said). A pressed
    button is answered here unless the caller `answered` it already (once, never twice)."""
    talk = await talks.next_proposed(session, after)
    if talk is None and after:
        talk = await talks.next_proposed(session)  # round again from the oldest
    chat_id = event.from_user.id  # type: ignore[union-attr]
    if isinstance(event, CallbackQuery) and not answered:
        await event.answer()
    if talk is None:
        await bot.send_message(chat_id, _("No talk proposals are waiting."))
        return
    waiting = await talks.count_proposed(session)
    await bot.send_message(chat_id, talk_card(talk))
    await send_memoir_media(bot, chat_id, store_of(app), talk.materials)  # type: ignore[arg-type]
    await bot.send_message(
        chat_id,
        _("Talk proposals waiting: {count}. What shall we do with this one?").format(count=waiting),
        reply_markup=decision_keyboard(talk.id),
    )


async def _proposed(query: CallbackQuery, session: AsyncSession, talk_id: int) -> Talk | None:
    talk = await talks.load_talk(session, talk_id)
    if talk is None or talk.status != talks.PROPOSED:
        await query.answer(_("This proposal has already been decided."), show_alert=True)
        return None
    return talk


async def choose_meeting(
    query: CallbackQuery, session: AsyncSession, member: Member | None, talk: Talk, now: datetime
) -> None:
    meetings = await slots.open_meetings(session, now)
    if not meetings:
        await show(query, _("No meeting or event is set. Set one with /meeting or /event first."))
        return
    builder = Keyboard()
    for meeting in meetings[:10]:
        used = await slots.planned_minutes(session, meeting.id)
        builder.button(
            text=f"{meeting_label(meeting, member)} ({used}/{meeting.duration_min})",
            callback_data=RevTalkCb(action="meeting", talk_id=talk.id, meeting_id=meeting.id),
        )
    await show(
        query,
        _("Into which meeting's programme? (Minutes planned / minutes it lasts.)"),
        builder.as_markup(),
    )


async def choose_slot(
    query: CallbackQuery, session: AsyncSession, talk: Talk, meeting_id: int
) -> None:
    programme = await slots.programme_talks(session, meeting_id)
    _taken, first_free = await slots.free_positions(session, meeting_id)
    builder = Keyboard()
    for other in programme:
        builder.button(
            text=f"{other.position} · {clip(other.title or '—', 30)}",
            callback_data=RevTalkCb(
                action="slot", talk_id=talk.id, meeting_id=meeting_id, value=other.position or 0
            ),
        )
    builder.button(
        text=_("{number} · free").format(number=first_free),
        callback_data=RevTalkCb(
            action="slot", talk_id=talk.id, meeting_id=meeting_id, value=first_free
        ),
    )
    await show(query, _("Which slot? Slots hold one talk each."), builder.as_markup())


async def choose_minutes(
    event: Message | CallbackQuery, state: FSMContext, talk: Talk, meeting_id: int, position: int
) -> None:
    await state.set_state(RevTalkSt.minutes)
    await state.update_data(review_talk=talk.id, review_meeting=meeting_id, review_slot=position)
    builder = Keyboard()
    proposed = talk.minutes or 0
    choices = [proposed] + [n for n in MINUTE_CHOICES if n != proposed]
    for n in choices:
        builder.button(
            text=ngettext("{count} minute", "{count} minutes", n).format(count=n),
            callback_data=RevTalkCb(
                action="minutes", talk_id=talk.id, meeting_id=meeting_id, value=n
            ),
        )
    builder.adjust(1, 3)
    await show(
        event,
        _(
            "How many minutes does it get? The speaker asked for {count}. Press or type a number."
        ).format(count=proposed),
        builder.as_markup(),
    )


async def accept_talk(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    member: Member | None,
    now: datetime,
    minutes: int,
) -> None:
    data = await state.get_data()
    talk_id, meeting_id, position = (
        data.get("review_talk"),
        data.get("review_meeting"),
        data.get("review_slot"),
    )
    talk = await talks.load_talk(session, talk_id) if isinstance(talk_id, int) else None
    if talk is None or not isinstance(meeting_id, int) or not isinstance(position, int):
        await state.clear()
        await show(event, _("This proposal has already been decided."))
        return
    try:
        placed = await slots.accept(
            session, talk, meeting_id=meeting_id, position=position, minutes=minutes, now=now
        )
        await publish(session, [placed], now=now)
    except talks.TalkError as exc:
        await show(event, talk_error_text(exc))  # they may choose again
        return
    await commit(session)
    await state.clear()
    meeting = await session.get(Meeting, placed)
    assert meeting is not None
    quiet = int(agenda.QUIET.total_seconds() // 60)
    await show(
        event,
        _(
            "Accepted: «{title}», slot {slot} of {meeting}. The speaker is being told; members "
            "hear of the new programme once it has been quiet for {quiet} minutes."
        ).format(
            title=talk.title or "—",
            slot=position,
            meeting=meeting_label(meeting, member),
            quiet=quiet,
        ),
    )
    await show_next_talk(event, session, app, bot, answered=True)  # show() answered it


@router.callback_query(RevTalkCb.filter())
async def on_review_talk(
    query: CallbackQuery,
    callback_data: RevTalkCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    member: Member | None,
    clock: Clock,
) -> None:
    action, now = callback_data.action, clock.now()
    if action == "next":
        await state.clear()
        await show_next_talk(query, session, app, bot)
        return
    if action == "skip":
        await show_next_talk(query, session, app, bot, after=callback_data.talk_id)
        return
    if action in PROGRAMME_ACTIONS:
        await on_programme(query, callback_data, state, session, member, now)
        return
    talk = await _proposed(query, session, callback_data.talk_id)
    if talk is None:
        return
    if action == "accept":
        await choose_meeting(query, session, member, talk, now)
    elif action == "meeting":
        meeting = await session.get(Meeting, callback_data.meeting_id)
        if meeting is None or meeting.status != "scheduled":
            await show(query, talk_error_text(talks.TalkError("cancelled")))
            return
        await choose_slot(query, session, talk, meeting.id)
    elif action == "slot":
        occupant = next(
            (
                t
                for t in await slots.programme_talks(session, callback_data.meeting_id)
                if t.position == callback_data.value
            ),
            None,
        )
        if occupant is not None:  # one talk per slot: say so now, not after the minutes
            error = talks.TalkError(
                "slot_taken", position=callback_data.value, title=occupant.title or "—"
            )
            await query.answer(talk_error_text(error), show_alert=True)
            return
        await choose_minutes(query, state, talk, callback_data.meeting_id, callback_data.value)
    elif action == "minutes":
        await accept_talk(query, state, session, app, bot, member, now, callback_data.value)
    elif action in ("changes", "decline"):
        await state.set_state(RevTalkSt.changes if action == "changes" else RevTalkSt.decline)
        await state.update_data(review_talk=talk.id)
        await show(
            query,
            _("Please write your note in a sentence or two; the speaker will receive it."),
        )
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


@router.message(StateFilter(RevTalkSt.minutes), TypedAnswer())
async def on_accept_minutes(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    member: Member | None,
    clock: Clock,
) -> None:
    try:
        minutes = talks.parse_minutes(message.text or "")
    except talks.TalkError as exc:
        await message.answer(talk_error_text(exc))
        return
    await accept_talk(message, state, session, app, bot, member, clock.now(), minutes)


@router.message(StateFilter(RevTalkSt.changes, RevTalkSt.decline), TypedAnswer())
async def on_review_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    clock: Clock,
) -> None:
    data = await state.get_data()
    asking = await state.get_state() == RevTalkSt.changes.state
    talk_id = data.get("review_talk")
    talk = await talks.load_talk(session, talk_id) if isinstance(talk_id, int) else None
    await state.clear()
    if talk is None or talk.status != talks.PROPOSED:
        await message.answer(_("This proposal has already been decided."))
        return
    note = (message.text or "").strip()
    if asking:
        await talks.ask_for_changes(session, talk, note, now=clock.now())
        done = _("Sent back to the speaker with your note; they can revise it.")
    else:
        await talks.decline(session, talk, note, now=clock.now())
        done = _("Declined; the speaker is being told, with your note.")
    await commit(session)
    await message.answer(done)
    await show_next_talk(message, session, app, bot)


# ---------------------------------------------------------------- /programme

PROGRAMME_ACTIONS = ("show", "up", "down", "time", "out")


async def programme_screen(
    session: AsyncSession, meeting: Meeting, member: Member | None
) -> tuple[str, InlineKeyboardMarkup]:
    zone, _locale = _zone_locale(member)
    programme = await slots.programme_talks(session, meeting.id)
    lines = [meeting_label(meeting, member)]
    builder = Keyboard()
    if not programme:
        lines.append(_("No talks in the programme yet. /review has the proposals."))
    starts = slots.slot_starts(meeting, programme)
    for talk, start in zip(programme, starts, strict=True):
        lines.append(
            _("{time} · slot {slot} · «{title}» — {speaker} ({minutes} min)").format(
                time=f"{localtime.to_local(start, zone):%H:%M}",
                slot=talk.position,
                title=talk.title or "—",
                speaker=talk.speaker_name or _("anonymous"),
                minutes=talk.minutes or 0,
            )
        )
        for label, action in (("⬆", "up"), ("⬇", "down"), ("⏱", "time"), ("✖", "out")):
            builder.button(
                text=f"{label} {talk.position}",
                callback_data=RevTalkCb(action=action, talk_id=talk.id, meeting_id=meeting.id),
            )
    used = sum(t.minutes or 0 for t in programme)
    lines.append(
        _("Planned: {used} of {length} minutes.").format(used=used, length=meeting.duration_min)
    )
    builder.adjust(4)
    return "\n".join(lines), builder.as_markup()


@router.message(Command("programme"))
async def cmd_programme(
    message: Message, session: AsyncSession, member: Member | None, clock: Clock, state: FSMContext
) -> None:
    await state.clear()
    meetings = await slots.open_meetings(session, clock.now())
    if not meetings:
        await message.answer(
            _("No meeting or event is set. Set one with /meeting or /event first.")
        )
        return
    if len(meetings) == 1:
        await show(message, *await programme_screen(session, meetings[0], member))
        return
    builder = Keyboard()
    for meeting in meetings[:10]:
        builder.button(
            text=meeting_label(meeting, member),
            callback_data=RevTalkCb(action="show", meeting_id=meeting.id),
        )
    await message.answer(_("Which programme?"), reply_markup=builder.as_markup())


async def on_programme(
    query: CallbackQuery,
    callback_data: RevTalkCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    now: datetime,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting_id)
    if meeting is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    action = callback_data.action
    if action != "show":
        talk = await talks.load_talk(session, callback_data.talk_id)
        if talk is None or talk.meeting_id != meeting.id:
            await query.answer(
                talk_error_text(talks.TalkError("not_in_programme")), show_alert=True
            )
            return
        if action == "time":
            await state.set_state(RevTalkSt.set_minutes)
            await state.update_data(programme_talk=talk.id)
            await show(
                query,
                _("How many minutes for «{title}»? Type a number.").format(title=talk.title or "—"),
            )
            return
        try:
            if action == "out":
                changed = await slots.take_out(session, talk, now=now)
            else:
                changed = await slots.move(session, talk, -1 if action == "up" else 1, now=now)
            await publish(session, [changed], now=now)
        except talks.TalkError as exc:
            await query.answer(talk_error_text(exc), show_alert=True)
            return
        await commit(session)
    await show(query, *await programme_screen(session, meeting, member))


@router.message(StateFilter(RevTalkSt.set_minutes), TypedAnswer())
async def on_programme_minutes(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    talk_id = (await state.get_data()).get("programme_talk")
    talk = await talks.load_talk(session, talk_id) if isinstance(talk_id, int) else None
    if talk is None or talk.meeting_id is None:
        await state.clear()
        await message.answer(talk_error_text(talks.TalkError("not_in_programme")))
        return
    now = clock.now()
    try:
        minutes = talks.parse_minutes(message.text or "")
        changed = await slots.set_minutes(session, talk, minutes, now=now)
        await publish(session, [changed], now=now)
    except talks.TalkError as exc:
        await message.answer(talk_error_text(exc))  # the state stays: they can type again
        return
    await commit(session)
    await state.clear()
    meeting = await session.get(Meeting, changed)
    assert meeting is not None
    await show(message, *await programme_screen(session, meeting, member))
