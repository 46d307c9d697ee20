"""/me, /settings, the one-line shortcuts (/lang, /tz, /name, /hours) and /forget."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from archive.memoirs import count_own_memoirs, forget_member_memoirs
from db.media import MediaStore
from db.members import forget_member, update_member
from db.models import Member
from db.privacy import erase_leftovers
from db.unit_of_work import commit
from ground.clock import Clock
from ground.context import AppContext
from ground.i18n import N_
from ground.text import person_name
from handlers.callbacks import ForgetCb, ReminderCb, SettingsCb
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.profile_view import LANGUAGE_NAMES, profile_text, show_settings
from handlers.programme_publish import publish
from handlers.registration import (
    offset_without_zone,
    place_choice_label,
    place_of_value,
    place_value,
    start_edit,
)
from handlers.replies import show, then
from programme.forget import count_accepted, forget_member_talks
from scheduling.geo import localtime, places
from scheduling.geo.stored_place import place_label
from scheduling.meetings.lifecycle import set_member_reminders
from scheduling.meetings.reminder_offsets import DEFAULT_OFFSETS
from scheduling.planning.store import toggle_unavailable_days, unavailable_days_from

router = Router(name="profile")


@router.message(Command("me"))
@registered
async def cmd_me(message: Message, member: Member, clock: Clock) -> None:
    await message.answer(
        profile_text(member, clock) + "\n\n" + _("/settings changes it, /forget deletes it.")
    )


@router.message(Command("settings"))
@registered
async def cmd_settings(message: Message, member: Member, state: FSMContext, clock: Clock) -> None:
    await state.clear()
    await show_settings(message, member, clock)


@router.callback_query(SettingsCb.filter())
@registered
async def on_settings(
    query: CallbackQuery,
    callback_data: SettingsCb,
    member: Member,
    state: FSMContext,
    clock: Clock,
    session: AsyncSession,
) -> None:
    if callback_data.action == "close":
        await show(query, profile_text(member, clock))
        return
    if callback_data.action == "forget":
        await show(query, *await _forget_prompt_for(session, member))
        return
    if callback_data.action == "reminders":
        await show(query, *reminders_prompt(member))
        return

    if callback_data.action not in {"lang", "name", "country", "hours"}:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await start_edit(callback_data.action, query, state, member, clock)


# ---------------------------------------------------------------- shortcuts


@router.message(Command("lang"))
@registered
async def cmd_lang(
    message: Message,
    command: CommandObject,
    member: Member,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    choice = (command.args or "").strip().lower()
    if choice not in LANGUAGE_NAMES:
        await message.answer(_("Please write /lang ru, /lang en or /lang zh."))
        return
    await update_member(session, member, locale=choice)
    await commit(session)
    with i18n.use_locale(choice):
        await message.answer(
            _("Language saved: {language}.").format(language=LANGUAGE_NAMES[choice])
        )


@router.message(Command("name"))
@registered
async def cmd_name(
    message: Message, command: CommandObject, member: Member, session: AsyncSession
) -> None:
    name = person_name(command.args or "")
    if not name:
        await message.answer(
            _("Please write your name after the command, for example: /name Anna Ivanova")
        )
        return
    if len(name) > 64:
        await message.answer(
            _("That is too long for a name. Please keep it under {limit} characters.").format(
                limit=64
            )
        )
        return
    await update_member(session, member, name=name)
    await commit(session)
    await message.answer(_("Name saved: {name}.").format(name=name))


class TzCb(CallbackData, prefix="tz"):
    """/tz: the member picks one of several places of the typed name ('p2037013', a zone)."""

    place: str


@router.message(Command("tz"))
@registered
async def cmd_tz(
    message: Message,
    command: CommandObject,
    member: Member,
    session: AsyncSession,
    clock: Clock,
) -> None:
    query = (command.args or "").strip()
    if not query:
        await message.answer(
            _(
                "Please write a city or a time zone after the command, for example: /tz Sydney or /tz Europe/Berlin"
            )
        )
        return
    try:
        fixed = places.fixed_offset_zone(query[:40])
    except places.OffsetNotAZone:
        await message.answer(offset_without_zone(query[:40]))
        return
    if fixed is not None:
        await update_member(session, member, zone=fixed, city=None, place_id=None)
        await commit(session)
        await message.answer(zone_saved_text(member, clock))
        return
    matches = places.resolve_city(query[:200], member.country)
    if not matches:
        await message.answer(
            _(
                "I couldn't find “{text}”. Please check the spelling, try a larger city nearby, or share your location."
            ).format(text=query[:100])
        )
        return
    if len(matches) > 1:
        builder = Keyboard()
        now = clock.now()
        for match in matches:
            label = place_choice_label(match, member.locale, now)
            builder.button(text=label, callback_data=TzCb(place=place_value(match)))
        builder.adjust(1)
        await message.answer(
            _("I found several places with that name. Which one is yours?"),
            reply_markup=builder.as_markup(),
        )
        return
    await _save_place(session, member, matches[0])
    await message.answer(zone_saved_text(member, clock))


@router.callback_query(TzCb.filter())
@registered
async def on_tz_choice(
    query: CallbackQuery,
    callback_data: TzCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
) -> None:
    match = place_of_value(callback_data.place)
    if match is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await _save_place(session, member, match)
    await show(query, zone_saved_text(member, clock))


async def _save_place(session: AsyncSession, member: Member, match: places.PlaceMatch) -> None:
    """The member now lives at `match`; committed before they are told so."""
    city = places.city_label(match, member.locale) if match.geonameid is not None else None
    await update_member(
        session,
        member,
        zone=match.zone,
        city=city,
        place_id=match.geonameid,
        country=match.country or member.country,
    )
    await commit(session)


def zone_saved_text(member: Member, clock: Clock) -> str:
    now = clock.now()
    zone = member.zone or "UTC"
    local_clock = localtime.format_clock_now(now, zone, member.locale)
    if places.is_fixed_zone(zone):
        return _(
            "Time zone saved: {offset}, a fixed offset: the clock does not change for daylight saving. Your local time is now {clock}."
        ).format(offset=places.zone_label(zone, member.locale), clock=local_clock)
    place = place_label(member.place_id, member.city, zone, member.locale, member.country)
    return _("Time zone saved: {place} ({offset}). Your local time is now {clock}.").format(
        place=place, offset=localtime.format_utc_offset(now, zone), clock=local_clock
    )


@router.message(Command("hours"))
@registered
async def cmd_hours(
    message: Message, command: CommandObject, member: Member, session: AsyncSession
) -> None:
    try:
        start, end = localtime.parse_hours(command.args or "")
    except ValueError:
        await message.answer(
            _("Please write the hours like this: /hours 10-20 (from 10:00 to 20:00).")
        )
        return
    await update_member(session, member, hours_start=start, hours_end=end)
    await commit(session)
    text = _("Hours saved: {hours}.").format(hours=localtime.format_hours(start, end))
    if end < start:
        text = then(text, _("(This window crosses midnight.)"), member.locale)
    await message.answer(text)


# ---------------------------------------------------------------- /forget


def forget_prompt(has_memoirs: bool, has_talks: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    builder.button(text=_("Yes, delete everything"), callback_data=ForgetCb(confirm=True))
    if has_memoirs or has_talks:
        builder.button(
            text=_("Delete, but keep my published memoirs and talks without my name")
            if has_talks
            else _("Delete, but keep my published memoirs without my name"),
            callback_data=ForgetCb(confirm=True, keep_memoirs=True),
        )
    builder.button(text=_("No, keep it"), callback_data=ForgetCb(confirm=False))
    builder.adjust(1)
    text = _(
        "This deletes everything the club bot stores about you: your name, place, hours and answers. It cannot be undone. Delete?"
    )
    if has_memoirs:
        text += "\n\n" + _(
            "Your memoirs and their photos and recordings are deleted too, unless you choose to keep the published ones in the club's archive without your name."
        )
    if has_talks:
        text += "\n\n" + _(
            "Your talk proposals and their files are deleted too; talks already in a programme can stay there, and in the proceedings, without your name if you choose."
        )
    return text, builder.as_markup()


async def _has_memoirs(session: AsyncSession, member: Member) -> bool:
    return await count_own_memoirs(session, member.id) > 0


async def _forget_prompt_for(
    session: AsyncSession, member: Member
) -> tuple[str, InlineKeyboardMarkup]:
    return forget_prompt(
        await _has_memoirs(session, member), await count_accepted(session, member.id) > 0
    )


@router.message(Command("forget"))
async def cmd_forget(
    message: Message, member: Member | None, state: FSMContext, session: AsyncSession
) -> None:
    await state.clear()
    if member is None:
        await message.answer(_("I store nothing about you."))
        return
    text, markup = await _forget_prompt_for(session, member)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ForgetCb.filter())
async def on_forget(
    query: CallbackQuery,
    callback_data: ForgetCb,
    session: AsyncSession,
    state: FSMContext,
    member: Member | None,
    app: AppContext,
    clock: Clock,
) -> None:
    if not callback_data.confirm:
        await show(query, _("Nothing was deleted."))
        return
    await state.clear()
    if member is None or query.from_user is None:
        await show(query, _("I store nothing about you."))
        return
    store = MediaStore(app.settings.media_dir)
    await forget_member_memoirs(
        session, store, member.id, keep_anonymised=callback_data.keep_memoirs
    )
    programmes = await forget_member_talks(
        session, store, member.id, keep_accepted=callback_data.keep_memoirs
    )
    await forget_member(session, query.from_user.id)
    await publish(session, programmes, now=clock.now())  # their name leaves the programmes
    await commit(session)
    await erase_leftovers(session)  # no old page image of their rows left in the WAL
    await show(
        query,
        _(
            "Everything about you has been deleted. Thank you for being with us. If you want to come back, send /start."
        ),
    )


# ---------------------------------------------------------------- reminders

REMINDER_LABELS = {
    "7d": N_("a week before"),
    "1d": N_("a day before"),
    "1h": N_("an hour before"),
    "0": N_("at the start, with the link"),
}


def chosen_offsets(member: Member) -> tuple[str, ...]:
    return tuple(t for t in member.reminders.split(",") if t)


def reminders_prompt(member: Member) -> tuple[str, InlineKeyboardMarkup]:
    chosen = chosen_offsets(member)
    builder = Keyboard()
    for offset in DEFAULT_OFFSETS:
        mark = "✅" if offset in chosen else "▫️"
        builder.button(
            text=f"{mark} {_(REMINDER_LABELS[offset])}", callback_data=ReminderCb(offset=offset)
        )
    builder.button(text=_("Done"), callback_data=ReminderCb(offset="done"))
    builder.adjust(1)
    text = _("Which reminders would you like before each meeting? Press to turn one on or off.")
    return text, builder.as_markup()


@router.callback_query(ReminderCb.filter())
@registered
async def on_reminder_toggle(
    query: CallbackQuery,
    callback_data: ReminderCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if callback_data.offset == "done":
        await show_settings(query, member, clock)
        return
    if callback_data.offset not in DEFAULT_OFFSETS:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    chosen = set(chosen_offsets(member)) ^ {callback_data.offset}
    ordered = tuple(o for o in DEFAULT_OFFSETS if o in chosen)
    await set_member_reminders(session, member, ordered, now=clock.now())
    await commit(session)
    await show(query, *reminders_prompt(member))


# ---------------------------------------------------------------- dates a member cannot make

MAX_DATES_PER_COMMAND = 10


@router.message(Command("unavailable"))
@registered
async def cmd_unavailable(
    message: Message,
    command: CommandObject,
    member: Member,
    session: AsyncSession,
    clock: Clock,
) -> None:
    """/unavailable 2027-02-13 [more dates]: mark or unmark days the member cannot make."""
    today = localtime.to_local(clock.now(), member.zone or "UTC").date()
    words = (command.args or "").split()[:MAX_DATES_PER_COMMAND]
    if not words:
        days = await unavailable_days_from(session, member, today)
        listed = ", ".join(localtime.format_day(d, member.locale) for d in days) or "—"
        await message.answer(
            _("Days you cannot make: {days}").format(days=listed)
            + "\n"
            + _(
                "To mark or unmark a day: /unavailable 2027-02-13 (several days are fine). The planner avoids them."
            )
        )
        return
    try:
        days = [localtime.parse_date(word) for word in words]
    except ValueError:
        await message.answer(
            _("Please write the dates like this: /unavailable 2027-02-13 2027-03-06")
        )
        return
    if any(day < today for day in days):
        await message.answer(_("That day has already passed. Please give days from today on."))
        return
    added, removed = await toggle_unavailable_days(session, member, days)
    await commit(session)
    lines = []
    if added:
        lines.append(
            _("Marked as days you cannot make: {days}").format(
                days=", ".join(localtime.format_day(d, member.locale) for d in added)
            )
        )
    if removed:
        lines.append(
            _("No longer marked: {days}").format(
                days=", ".join(localtime.format_day(d, member.locale) for d in removed)
            )
        )
    await message.answer("\n".join(lines))
