"""Members propose talks: /talk (title, a few lines, language, length, materials), revise
one the organisers sent back, and /mytalks (status, their slot in their own time,
withdraw). Each step has Back; /cancel leaves."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from archive.intake import FileTooBig, fetch_and_store
from db.models import Meeting, Member, Talk
from db.unit_of_work import commit
from delivery import notes
from delivery.messages import Outgoing
from ground.clock import Clock
from ground.context import AppContext
from handlers.callbacks import TalkCb
from handlers.files import incoming_file, store_of, telegram_download
from handlers.filters import HasFile, TypedAnswer
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.memoirs import and_send_more
from handlers.programme_publish import publish
from handlers.replies import clip, show
from programme import notices as talk_notices
from programme import talks
from scheduling.geo import localtime

log = logging.getLogger(__name__)

router = Router(name="talks")

MINUTE_CHOICES = (10, 15, 20, 30, 45)
LANGUAGE_LABELS = {"ru": "Русский", "en": "English", "zh": "中文"}


class TalkSt(StatesGroup):
    title = State()
    abstract = State()
    language = State()
    minutes = State()
    materials = State()
    confirm = State()


class StepCb(CallbackData, prefix="tks"):
    """A step's answer: "back", "keep" (revising), "lang" + code, "min" + minutes, "done",
    "send", "cancel"."""

    action: str
    value: str = ""


STEPS = ("title", "abstract", "language", "minutes", "materials", "confirm")


def talk_error_text(error: talks.TalkError) -> str:
    """One polite line for every reason the domain gives."""
    d = error.details
    texts = {
        "title_empty": _("Please write the title in words."),
        "title_long": _("That title is too long; please keep it under {limit} characters."),
        "abstract_empty": _("Please write a few lines about the talk."),
        "abstract_long": _("That is too long; please keep it under {limit} characters."),
        "language": _("Please choose the language with a button."),
        "minutes_format": _("Please write the length in minutes as a number, for example 20."),
        "minutes": _(
            "A talk can last from {low} to {high} minutes. Please choose a length in between."
        ),
        "file_too_big": _(
            "This file is {size} MB; Telegram lets me take files up to {limit} MB. Please send a "
            "smaller copy (a PDF of the slides is often small), or a link in the description."
        ),
        "too_many_files": _("A talk can have up to {limit} files; this one has them all."),
        "not_editable": _("This proposal is with the organisers now and can't be changed."),
        "incomplete": _("Something is missing. Please go through the steps again with /talk."),
        "not_proposed": _("This proposal has already been decided."),
        "no_meeting": _("That meeting no longer exists."),
        "cancelled": _("That meeting is cancelled: a cancelled meeting has no programme."),
        "started": _("That meeting has already begun; its programme can't change now."),
        "slot_taken": _(
            "Slot {position} already holds «{title}». Choose a free slot, or move that talk first."
        ),
        "position": _("Please choose a slot from 1 to {limit}."),
        "too_long": _(
            "With it the programme would last {total} minutes, but the meeting lasts {length}. "
            "Please shorten a talk or choose fewer minutes."
        ),
        "not_in_programme": _("This talk is not in a programme any more."),
        "no_neighbour": _("It can't move further that way."),
    }
    return texts.get(error.reason, _("That can't be done.")).format(**d)


def _keyboard(*buttons: tuple[str, StepCb], width: int = 1) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.adjust(width)
    return builder.as_markup()


def _nav(revising: bool, keep: str | None = None) -> list[tuple[str, StepCb]]:
    row = [(_("← Back"), StepCb(action="back"))]
    if revising and keep:
        row.insert(0, (_("Keep: {value}").format(value=clip(keep, 40)), StepCb(action="keep")))
    return row


async def _talk(state: FSMContext, session: AsyncSession, member: Member | None) -> Talk | None:
    talk_id = (await state.get_data()).get("talk_id")
    if member is None or not isinstance(talk_id, int):
        return None
    talk = await talks.get_own(session, member.id, talk_id)
    return talk if talk is not None and talk.status in (talks.DRAFT, talks.CHANGES) else None


async def _open_talk(
    event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, member: Member | None
) -> Talk | None:
    talk = await _talk(state, session, member)
    if talk is None:
        await state.clear()
        await show(event, _("This proposal is no longer open. Send /talk to start a new one."))
    return talk


async def ask(event: Message | CallbackQuery, state: FSMContext, step: str, talk: Talk) -> None:
    """Put the question of `step`, with Back (and Keep when revising)."""
    revising = talk.status == talks.CHANGES
    await state.set_state(getattr(TalkSt, step))
    if step == "title":
        text = _("What is the title of your talk?")
        if revising:
            text = (
                _("Revising «{title}». The organisers' note: {note}").format(
                    title=talk.title or "—", note=talk.review_note or "—"
                )
                + "\n\n"
                + text
            )
        nav = [(_("Cancel"), StepCb(action="cancel"))]
        if revising and talk.title:
            nav.insert(0, _nav(True, talk.title)[0])
        await show(event, text, _keyboard(*nav))
    elif step == "abstract":
        await show(
            event,
            _("In a few lines: what will you tell? (Up to {limit} characters.)").format(
                limit=talks.MAX_ABSTRACT
            ),
            _keyboard(*_nav(revising, talk.abstract)),
        )
    elif step == "language":
        buttons = [
            (label, StepCb(action="lang", value=code)) for code, label in LANGUAGE_LABELS.items()
        ]
        await show(
            event,
            _("In which language will you speak?"),
            _keyboard(*buttons, *_nav(False), width=3),
        )
    elif step == "minutes":
        buttons = [
            (
                ngettext("{count} minute", "{count} minutes", n).format(count=n),
                StepCb(action="min", value=str(n)),
            )
            for n in MINUTE_CHOICES
        ]
        keep = (
            ngettext("{count} minute", "{count} minutes", talk.minutes).format(count=talk.minutes)
            if talk.minutes
            else None
        )
        await show(
            event,
            _("How long will it take? Press a button or write the number of minutes."),
            _keyboard(*buttons, *_nav(revising, keep), width=3),
        )
    elif step == "materials":
        count = len(talk.materials)
        text = _(
            "Slides, photos or a document to go with it? Send them now as files (up to "
            "{limit} MB each), or press “Done”."
        ).format(limit=talks.MAX_MATERIAL_BYTES // 1024**2)
        if count:
            text += "\n" + ngettext(
                "{count} file is attached.", "{count} files are attached.", count
            ).format(count=count)
        await show(
            event, text, _keyboard((_("✅ Done"), StepCb(action="done")), *_nav(False), width=2)
        )
    else:
        await show(
            event,
            talk_card(talk) + "\n\n" + _("Send it to the organisers?"),
            _keyboard(
                (_("📨 Send to the organisers"), StepCb(action="send")),
                *_nav(False),
                (_("Cancel"), StepCb(action="cancel")),
                width=1,
            ),
        )


def language_label(code: str | None) -> str:
    return LANGUAGE_LABELS.get(code or "", "—")


def talk_card(talk: Talk) -> str:
    minutes = talk.minutes or 0
    lines = [
        f"«{talk.title or '—'}»",
        " · ".join(
            (
                talk.speaker_name or _("anonymous"),
                language_label(talk.language),
                ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes),
            )
        ),
    ]
    if talk.abstract:
        lines += ["", clip(talk.abstract, 1500)]
    if talk.materials:
        lines += [
            "",
            ngettext("📎 {count} file", "📎 {count} files", len(talk.materials)).format(
                count=len(talk.materials)
            ),
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------- /talk


@router.message(Command("talk"))
@registered
async def cmd_talk(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    talk = await talks.create_draft(session, member, now=clock.now())
    await commit(session)
    await state.clear()
    await state.update_data(talk_id=talk.id)
    await message.answer(
        _(
            "Let's prepare your talk for the club. Your name and its title will appear in the "
            "programme and the announcements. /cancel stops at any step."
        )
    )
    await ask(message, state, "title", talk)


@router.callback_query(TalkCb.filter())
@registered
async def on_talk_button(
    query: CallbackQuery,
    callback_data: TalkCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    app: AppContext,
    clock: Clock,
) -> None:
    talk = await talks.get_own(session, member.id, callback_data.talk_id)
    if talk is None:
        await query.answer(_("This talk is no longer available."), show_alert=True)
        return
    if callback_data.action == "revise":
        if talk.status != talks.CHANGES:
            await query.answer(_("This proposal has already been decided."), show_alert=True)
            return
        await state.clear()
        await state.update_data(talk_id=talk.id)
        await ask(query, state, "title", talk)
    elif callback_data.action == "withdraw":
        builder = Keyboard()
        builder.button(
            text=_("Yes, withdraw it"), callback_data=TalkCb(action="confirm", talk_id=talk.id)
        )
        builder.button(text=_("No"), callback_data=TalkCb(action="list"))
        await show(
            query,
            _(
                "Withdraw «{title}»? It is deleted with its files; if it is in a programme, it leaves it."
            ).format(title=talk.title or "—"),
            builder.as_markup(),
        )
    elif callback_data.action == "confirm":
        meeting_id = await talks.withdraw(session, store_of(app), talk)
        await publish(session, [meeting_id], now=clock.now())
        await commit(session)
        await show(query, _("Withdrawn: «{title}».").format(title=talk.title or "—"))
    else:
        await show(query, *await my_talks(session, member))


@router.callback_query(StepCb.filter())
@registered
async def on_step(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
    app: AppContext,
) -> None:
    action = callback_data.action
    if action == "cancel":
        await state.clear()
        await show(query, _("Stopped. Your draft is kept only until you start a new one."))
        return
    talk = await _open_talk(query, state, session, member)
    if talk is None:
        return
    step = (await state.get_state() or "").rpartition(":")[2]
    if step not in STEPS:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    now = clock.now()
    if action == "back":
        index = STEPS.index(step)
        await ask(query, state, STEPS[max(index - 1, 0)], talk)
    elif action == "keep" and step in ("title", "abstract", "minutes"):
        await ask(query, state, STEPS[STEPS.index(step) + 1], talk)
    elif action == "lang" and step == "language":
        await _save(query, state, session, talk, "minutes", now=now, language=callback_data.value)
    elif action == "min" and step == "minutes" and callback_data.value.isdigit():
        await _save(
            query, state, session, talk, "materials", now=now, minutes=int(callback_data.value)
        )
    elif action == "done" and step == "materials":
        await ask(query, state, "confirm", talk)
    elif action == "send" and step == "confirm":
        try:
            await talks.submit(session, talk, now=now)
        except talks.TalkError as exc:
            await show(query, talk_error_text(exc))
            return
        await tell_organisers(session, app, member, talk, now=now)
        await commit(session)  # the proposal and the organisers' notes together
        await state.clear()
        await show(
            query,
            _(
                "Thank you! Your proposal «{title}» is with the organisers. I will tell you "
                "what they decide; /mytalks shows your talks."
            ).format(title=talk.title or "—"),
        )
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


async def tell_organisers(
    session: AsyncSession, app: AppContext, speaker: Member, talk: Talk, *, now: datetime
) -> None:
    """A note to each organiser, in their language, through the outbox."""
    waiting = await talks.count_proposed(session)

    def note(locale: str) -> Outgoing:
        def t(message: str) -> str:
            return app.i18n.gettext(message, locale=locale)

        text = t(
            "New talk proposal: «{title}» from {speaker}. Waiting for review: {count}. "
            "/review opens the queue."
        )
        return Outgoing(
            text.format(title=talk.title or "—", speaker=talk.speaker_name or "—", count=waiting)
        )

    await notes.queue_to_organisers(
        session,
        app.settings.admin_ids,
        app.settings.default_locale,
        f"talk-proposed:{talk.id}",
        note,
        due_at=now,
        skip={speaker.telegram_id},
    )


async def _save(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    talk: Talk,
    next_step: str,
    **fields: object,
) -> None:
    try:
        await talks.set_fields(session, talk, **fields)  # type: ignore[arg-type]
    except talks.TalkError as exc:
        await show(event, talk_error_text(exc))  # the step stays: they can answer again
        return
    await commit(session)
    await ask(event, state, next_step, talk)


@router.message(StateFilter(TalkSt.title), TypedAnswer())
async def on_title(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    if talk := await _open_talk(message, state, session, member):
        await _save(
            message, state, session, talk, "abstract", now=clock.now(), title=message.text or ""
        )


@router.message(StateFilter(TalkSt.abstract), TypedAnswer())
async def on_abstract(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    if talk := await _open_talk(message, state, session, member):
        await _save(
            message, state, session, talk, "language", now=clock.now(), abstract=message.text or ""
        )


@router.message(StateFilter(TalkSt.minutes), TypedAnswer())
async def on_minutes(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    talk = await _open_talk(message, state, session, member)
    if talk is None:
        return
    try:
        minutes = talks.parse_minutes(message.text or "")
    except talks.TalkError as exc:
        await message.answer(talk_error_text(exc))
        return
    await _save(message, state, session, talk, "materials", now=clock.now(), minutes=minutes)


@router.message(StateFilter(TalkSt.materials), HasFile())
async def on_material(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    app: AppContext,
    bot: Bot,
) -> None:
    talk = await _open_talk(message, state, session, member)
    if talk is None:
        return
    item = incoming_file(message)
    assert item is not None
    try:
        talks.check_material_size(item.file_size)
        if await talks.material_count(session, talk) >= talks.MAX_MATERIALS:
            raise talks.TalkError("too_many_files", limit=talks.MAX_MATERIALS)
        blob = await fetch_and_store(telegram_download(bot), store_of(app), item)
    except talks.TalkError as exc:
        await message.answer(talk_error_text(exc))
        return
    except FileTooBig:
        size = math.ceil((item.file_size or 0) / 1024**2)
        limit = talks.MAX_MATERIAL_BYTES // 1024**2
        await message.answer(
            talk_error_text(talks.TalkError("file_too_big", size=size, limit=limit))
        )
        return
    except (TelegramAPIError, OSError) as exc:
        log.warning("could not store a talk's file %s: %s", item.file_unique_id, exc)
        await message.answer(_("Sorry, I could not save this file. Please send it again."))
        return
    row = await talks.add_material(
        session,
        talk,
        blob,
        original_name=item.original_name,
        caption=item.caption,
        telegram_file_id=item.file_id,
    )
    await commit(session)
    saved = _("This file is already attached.") if row is None else _("📎 Saved.")
    await message.answer(
        and_send_more(saved),
        reply_markup=_keyboard((_("✅ Done"), StepCb(action="done"))),
    )


@router.message(StateFilter(TalkSt.materials), TypedAnswer())
async def on_material_text(message: Message) -> None:
    await message.answer(
        _("Please send the materials as files (PDF, photos, a document), or press “Done”."),
        reply_markup=_keyboard((_("✅ Done"), StepCb(action="done"))),
    )


@router.message(StateFilter(TalkSt.language, TalkSt.confirm), TypedAnswer())
async def on_press_please(message: Message) -> None:
    await message.answer(_("Please press one of the buttons above. /cancel stops the dialogue."))


# ---------------------------------------------------------------- /mytalks


STATUS_TEXT = {
    talks.PROPOSED: "⏳",
    talks.CHANGES: "✏️",
    talks.ACCEPTED: "✅",
    talks.DECLINED: "—",
}


def status_line(talk: Talk) -> str:
    texts = {
        talks.PROPOSED: _("waiting for the organisers"),
        talks.CHANGES: _("the organisers ask for changes"),
        talks.ACCEPTED: _("in the programme"),
        talks.DECLINED: _("not included this time"),
    }
    return f"{STATUS_TEXT.get(talk.status, '')} {texts.get(talk.status, talk.status)}"


async def my_talks(
    session: AsyncSession, member: Member
) -> tuple[str, InlineKeyboardMarkup | None]:
    own = await talks.list_own(session, member.id)
    if not own:
        return _("You have not proposed a talk yet. /talk starts one."), None
    zone, locale = member.zone or "UTC", member.locale
    lines = [_("Your talks:")]
    builder = Keyboard()
    for talk in own:
        lines += ["", f"«{talk.title or '—'}»", status_line(talk)]
        slot = await talk_notices.slot_of(session, talk)
        if slot is not None:
            meeting = await session.get(Meeting, talk.meeting_id)
            number, total, starts_at = slot
            assert meeting is not None
            lines.append(
                _("{when}: talk {number} of {total}, from {time} your time.").format(
                    when=localtime.format_meeting_time(meeting.starts_at, zone, locale),
                    number=number,
                    total=total,
                    time=f"{localtime.to_local(starts_at, zone):%H:%M}",
                )
            )
        if talk.status == talks.CHANGES:
            builder.button(
                text=_("✏️ Revise «{title}»").format(title=clip(talk.title or "—", 30)),
                callback_data=TalkCb(action="revise", talk_id=talk.id),
            )
        builder.button(
            text=_("Withdraw «{title}»").format(title=clip(talk.title or "—", 30)),
            callback_data=TalkCb(action="withdraw", talk_id=talk.id),
        )
    return "\n".join(lines), builder.as_markup()


@router.message(Command("mytalks"))
@registered
async def cmd_mytalks(message: Message, session: AsyncSession, member: Member) -> None:
    await show(message, *await my_talks(session, member))
