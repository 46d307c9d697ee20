"""/start: the guided registration, with buttons at every step and a way back.

The same steps serve /settings ("edit" mode): after one answer the change is saved and
the member returns to their settings instead of moving to the next question.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.members import Registration, save_registration, update_member
from db.models import DEFAULT_HOURS_END, DEFAULT_HOURS_START, Member
from db.unit_of_work import commit
from ground.clock import Clock
from ground.text import person_name
from handlers.callbacks import RegCb
from handlers.filters import SharedLocation, TypedAnswer
from handlers.i18n import cached_per_locale
from handlers.keyboards import Keyboard
from handlers.profile_view import profile_text, show_settings
from handlers.replies import show
from scheduling.geo import localtime, places
from scheduling.meetings.lifecycle import queue_for_new_member

router = Router(name="registration")

LANGUAGE_BUTTONS = (("ru", "Русский"), ("en", "English"), ("zh", "中文"))
HOUR_PRESETS = ((9, 21), (10, 18), (8, 22), (12, 20), (10, 22), (7, 23))
MAX_NAME_LENGTH = 64
MORE_PER_PAGE = 12  # places on each "more" page of the city buttons


class Reg(StatesGroup):
    lang = State()
    name = State()
    country = State()
    zone = State()
    confirm = State()
    hours = State()
    consent = State()


BACK_OF: dict[str, str] = {
    "name": "lang",
    "country": "name",
    "zone": "country",
    "confirm": "zone",
    "hours": "zone",
    "consent": "hours",
}


def _cb(step: str, value: str = "") -> str:
    return RegCb(step=step, value=value).pack()


def _back_row(builder: Keyboard, step: str) -> None:
    builder.button(text=_("« Back"), callback_data=_cb(step, "back"))


@cached_per_locale()
def render_lang() -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    for code, label in LANGUAGE_BUTTONS:
        builder.button(text=label, callback_data=_cb("lang", code))
    builder.adjust(3)
    text = "Выберите язык · Choose your language · 请选择语言"
    return text, builder.as_markup()


def render_name(profile_name: str | None) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    if profile_name:
        builder.button(text=profile_name[:MAX_NAME_LENGTH], callback_data=_cb("name", "profile"))
    _back_row(builder, "name")
    builder.adjust(1)
    if profile_name:
        text = _(
            "How should we call you? Press the button to use your Telegram name, or type a name."
        )
    else:
        text = _("How should we call you? Please type your name.")
    return text, builder.as_markup()


@cached_per_locale()
def render_country(locale: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    for code in places.CLUB_COUNTRIES:
        label = places.country_short_name(code, locale)
        builder.button(text=label, callback_data=_cb("country", code))
    builder.button(text=_("Another country"), callback_data=_cb("country", "other"))
    builder.button(text=_("📍 Share my location"), callback_data=_cb("country", "location"))
    _back_row(builder, "country")
    pairs, odd = divmod(len(places.CLUB_COUNTRIES) + 1, 2)  # the countries and "another"
    builder.adjust(*([2] * pairs), *([1] * odd), 1, 1)
    text = _(
        "Which country do you live in? You may also type the name of your city, or share your location."
    )
    return text, builder.as_markup()


def place_value(match: places.PlaceMatch) -> str:
    """A place as a button's value: 'p2037013' (a geonames id), or a bare zone name."""
    return f"p{match.geonameid}" if match.geonameid is not None else match.zone


def place_of_value(value: str) -> places.PlaceMatch | None:
    """The place a button's value names; None for a stale or forged value."""
    if value.startswith("p") and value[1:].isdigit():
        return places.place_by_id(int(value[1:]))
    if places.is_valid_zone(value) and not places.is_fixed_zone(value):
        return places.PlaceMatch(
            places.zone_label(value, "en"), places.zone_country(value), value, 0
        )
    return None


def place_choice_label(match: places.PlaceMatch, locale: str, now: datetime) -> str:
    """'Москва, США (UTC−8)' / 'Moscow, Russia (UTC+3)' / '莫斯科，俄罗斯（UTC+3）'."""
    country = places.country_short_name(match.country, locale) if match.country else ""
    city = places.with_country(places.city_label(match, locale), country, locale)
    return places.with_offset(city, localtime.format_utc_offset(now, match.zone), locale)


def render_zone(
    country: str | None, locale: str, clock: Clock, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    # The labels show each zone's UTC offset now; offsets change on a whole minute at most.
    return _render_zone_at(country, locale, clock.now().replace(second=0, microsecond=0), page)


def _zone_pages(country: str, now: datetime) -> list[list[places.PlaceMatch]]:
    """The city buttons page by page: where the club's members live, then every other zone."""
    featured = places.featured_places(country, now)
    more = places.more_places(country, now)
    pages = [featured] if featured else []
    pages += [more[i : i + MORE_PER_PAGE] for i in range(0, len(more), MORE_PER_PAGE)]
    return pages


@cached_per_locale()
def _render_zone_at(
    country: str | None, locale: str, now: datetime, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    pages = _zone_pages(country, now) if country else []
    page = min(max(page, 0), len(pages) - 1) if pages else 0
    shown = pages[page] if pages else []
    for match in shown:
        offset = localtime.format_utc_offset(now, match.zone)
        label = places.with_offset(places.place_name(match, locale), offset, locale)
        builder.button(text=label, callback_data=_cb("zone", place_value(match)))
    paging = 0
    if page > 0:
        builder.button(text=_("◀ Main cities"), callback_data=_cb("zone", "more0"))
        paging += 1
    if page + 1 < len(pages):
        builder.button(text=_("More places ▶"), callback_data=_cb("zone", f"more{page + 1}"))
        paging += 1
    builder.button(text=_("📍 Share my location"), callback_data=_cb("zone", "location"))
    _back_row(builder, "zone")
    pairs, odd = divmod(len(shown), 2)
    builder.adjust(*([2] * pairs), *([1] * odd), *([paging] if paging else []), 1, 1)
    if shown:
        text = _("Choose the city nearest to you, or type the name of your city.")
    else:
        text = _("Please type the name of your city, or share your location.")
    return text, builder.as_markup()


def render_zone_choices(
    matches: list[places.PlaceMatch], locale: str, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    now = clock.now()
    for match in matches:
        label = place_choice_label(match, locale, now)
        builder.button(text=label, callback_data=_cb("zone", place_value(match)))
    _back_row(builder, "confirm")
    builder.adjust(1)
    return _("I found several places with that name. Which one is yours?"), builder.as_markup()


def render_confirm(
    zone: str, city: str | None, locale: str, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    now = clock.now()
    builder = Keyboard()
    builder.button(text=_("Yes, that's right"), callback_data=_cb("confirm", "yes"))
    builder.button(text=_("No, change it"), callback_data=_cb("confirm", "back"))
    builder.adjust(1)
    local_clock = localtime.format_clock_now(now, zone, locale)
    if places.is_fixed_zone(zone):
        text = _(
            "Your time zone: {offset}, a fixed offset (no daylight-saving changes).\nYour local time is now {clock}. Is that right?"
        ).format(offset=places.zone_label(zone, locale), clock=local_clock)
        return text, builder.as_markup()
    place = city or places.zone_label(zone, locale)
    text = _(
        "Your place: {place} ({offset}).\nYour local time is now {clock}. Is that right?"
    ).format(place=place, offset=localtime.format_utc_offset(now, zone), clock=local_clock)
    return text, builder.as_markup()


@cached_per_locale()
def render_hours() -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    for start, end in HOUR_PRESETS:
        label = localtime.format_hours(start * 60, end * 60)
        builder.button(text=label, callback_data=_cb("hours", f"{start}-{end}"))
    _back_row(builder, "hours")
    builder.adjust(2, 2, 2, 1)
    text = _(
        "Which hours of your day suit you for a club meeting? Choose below, or type them "
        "like 10-20. If you are not sure, choose 09:00–21:00."
    )
    return text, builder.as_markup()


@cached_per_locale()
def render_consent() -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    builder.button(text=_("I agree"), callback_data=_cb("consent", "yes"))
    builder.button(text=_("No, thanks"), callback_data=_cb("consent", "no"))
    _back_row(builder, "consent")
    builder.adjust(2, 1)
    text = _(
        "One last thing. To invite you at a good hour we store your name, language, country, "
        "time zone, suitable hours and Telegram id; only the club's organisers can see them, "
        "and /forget deletes them at any time. Do you agree?"
    )
    return text, builder.as_markup()


async def goto(
    step: str,
    event: Message | CallbackQuery,
    state: FSMContext,
    clock: Clock,
    data: dict[str, Any] | None = None,
) -> None:
    """Show one step of the dialogue and remember where the member is.

    `data` is the dialogue's data when the caller has it at hand (from `update_data`).
    """
    if data is None:
        data = await state.get_data()
    locale = data.get("locale", "ru")
    if step == "lang":
        text, markup = render_lang()
    elif step == "name":
        user = event.from_user
        text, markup = render_name(person_name(user.full_name) if user else None)
    elif step == "country":
        text, markup = render_country(locale)
    elif step == "zone":
        text, markup = render_zone(data.get("country"), locale, clock)
    elif step == "confirm":
        text, markup = render_confirm(data["zone"], data.get("city"), locale, clock)
    elif step == "hours":
        text, markup = render_hours()
    elif step == "consent":
        text, markup = render_consent()
    else:  # pragma: no cover - a programming error, not user input
        raise ValueError(step)
    await state.set_state(getattr(Reg, step))
    await show(event, text, markup)


async def start_registration(
    message: Message, state: FSMContext, i18n: I18n, clock: Clock, guessed_locale: str
) -> None:
    await state.clear()
    await state.update_data(mode="register", locale=guessed_locale)
    await goto("lang", message, state, clock)


async def start_edit(
    step: str, event: Message | CallbackQuery, state: FSMContext, member: Member, clock: Clock
) -> None:
    """Enter one registration step from /settings."""
    await state.clear()
    await state.update_data(
        mode="edit",
        locale=member.locale,
        country=member.country,
        zone=member.zone,
        city=member.city,
        place_id=member.place_id,
    )
    await goto(step, event, state, clock)


# ---------------------------------------------------------------- /start


@router.message(CommandStart())
async def cmd_start(
    message: Message, state: FSMContext, member: Member | None, i18n: I18n, clock: Clock
) -> None:
    if member is not None and member.is_registered:
        await state.clear()
        await message.answer(
            _("Welcome back, {name}! You are already a member of the club.").format(
                name=member.name
            )
            + "\n\n"
            + profile_text(member, clock)
            + "\n\n"
            + _("/settings changes it, /help lists what I can do.")
        )
        return
    await start_registration(message, state, i18n, clock, i18n.current_locale)


# ---------------------------------------------------------------- Back (any step)


# The state filter comes first in these handlers: it is a string comparison, while the
# callback filter parses the data, and a press is checked against each handler in turn.
@router.callback_query(StateFilter(Reg), RegCb.filter(F.value == "back"))
async def on_back(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    member: Member | None,
    clock: Clock,
) -> None:
    data = await state.get_data()
    if data.get("mode") == "edit" and member is not None:
        await state.clear()
        await show_settings(query, member, clock)
        return
    await goto(BACK_OF.get(callback_data.step, "lang"), query, state, clock)


# ---------------------------------------------------------------- language


@router.callback_query(StateFilter(Reg.lang), RegCb.filter(F.step == "lang"))
async def on_lang(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    i18n: I18n,
    clock: Clock,
) -> None:
    locale = (
        callback_data.value
        if callback_data.value in i18n.available_locales
        else i18n.default_locale
    )
    data = await state.update_data(locale=locale)
    with i18n.use_locale(locale):
        if await _finish_edit(query, state, session, member, clock, locale=locale):
            return
        await goto("name", query, state, clock, data)


# ---------------------------------------------------------------- name


@router.callback_query(StateFilter(Reg.name), RegCb.filter(F.step == "name"))
async def on_name_button(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    profile_name = person_name(query.from_user.full_name if query.from_user else "")
    if not profile_name:  # a Telegram name of invisible characters only: ask for one
        await show(query, _("Please type your name in letters."))
        return
    await _accept_name(query, profile_name[:MAX_NAME_LENGTH], state, session, member, clock)


@router.message(StateFilter(Reg.name), TypedAnswer())
async def on_name_text(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None, clock: Clock
) -> None:
    name = person_name(message.text or "")
    if not name:
        await message.answer(_("Please type your name in letters."))
        return
    if len(name) > MAX_NAME_LENGTH:
        await message.answer(
            _("That is too long for a name. Please keep it under {limit} characters.").format(
                limit=MAX_NAME_LENGTH
            )
        )
        return
    await _accept_name(message, name, state, session, member, clock)


async def _accept_name(
    event: Message | CallbackQuery,
    name: str,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    data = await state.update_data(name=name)
    if await _finish_edit(event, state, session, member, clock, name=name):
        return
    await goto("country", event, state, clock, data)


# ---------------------------------------------------------------- country


@router.callback_query(StateFilter(Reg.country), RegCb.filter(F.step == "country"))
async def on_country_button(
    query: CallbackQuery, callback_data: RegCb, state: FSMContext, clock: Clock
) -> None:
    if callback_data.value == "other":
        builder = Keyboard()
        _back_row(builder, "zone")  # back from here shows the country buttons again
        await show(query, _("Please type the name of your country."), builder.as_markup())
        return
    if callback_data.value == "location":
        await _ask_for_location(query, state)
        return
    await _accept_country(query, callback_data.value, state, clock)


@router.message(StateFilter(Reg.country), TypedAnswer())
async def on_country_text(message: Message, state: FSMContext, clock: Clock) -> None:
    text = (message.text or "").strip()
    if text == _("« Back"):  # the reply keyboard of "share my location"
        await message.answer(
            _("Back to the list of countries."), reply_markup=ReplyKeyboardRemove()
        )
        await goto("country", message, state, clock)
        return
    found = places.resolve_country(text)
    if len(found) == 1:
        await _accept_country(message, found[0], state, clock)
        return
    data = await state.get_data()
    locale = data.get("locale", "ru")
    if found:
        builder = Keyboard()
        for code in found[:8]:
            builder.button(
                text=places.country_name(code, locale), callback_data=_cb("country", code)
            )
        builder.adjust(1)
        await message.answer(
            _("Which of these countries do you mean?"), reply_markup=builder.as_markup()
        )
        return
    # Not a country: many answer with their city straight away ('哈尔滨'), which is fine.
    if await _accept_typed_place(message, text, state, clock):
        return
    await message.answer(
        _(
            "I know no country or city of that name. Please check the spelling, or choose from the buttons."
        )
    )
    await goto("country", message, state, clock)


async def _accept_country(
    event: Message | CallbackQuery, code: str, state: FSMContext, clock: Clock
) -> None:
    code = code.upper()
    zones = places.country_zones(code)
    if not zones:
        await show(
            event,
            _("I don't know that country. Please check the spelling, or choose from the buttons."),
        )
        return
    if len(zones) == 1 and not places.featured_places(code):
        # One zone and no city to offer: nothing to ask, go straight to the local-time check.
        data = await state.update_data(country=code, zone=zones[0], city=None, place_id=None)
        await goto("confirm", event, state, clock, data)
        return
    data = await state.update_data(country=code, zone=None, city=None, place_id=None)
    await goto("zone", event, state, clock, data)


# ---------------------------------------------------------------- zone: button, city, location


def _chosen(match: places.PlaceMatch, label: str | None, country: str | None) -> dict[str, Any]:
    """What the dialogue keeps of a chosen place: its zone, geonames id, name and country."""
    return {
        "zone": match.zone,
        "place_id": match.geonameid,
        "city": label if match.geonameid is not None else None,
        "country": match.country or country,
        "pending": None,
    }


async def _ask_for_location(query: CallbackQuery, state: FSMContext) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Send location"), request_location=True)],
            [KeyboardButton(text=_("« Back"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Press the button below to share your location. Only your time zone is kept, not the location."
            ),
            reply_markup=keyboard,
        )


@router.callback_query(StateFilter(Reg.zone), RegCb.filter(F.step == "zone"))
async def on_zone_button(
    query: CallbackQuery, callback_data: RegCb, state: FSMContext, clock: Clock
) -> None:
    value = callback_data.value
    if value == "location":
        await _ask_for_location(query, state)
        return
    data = await state.get_data()
    locale = data.get("locale", "ru")
    if value.startswith("more") and value[4:].isdigit():
        await show(query, *render_zone(data.get("country"), locale, clock, int(value[4:])))
        return
    match = place_of_value(value)
    if match is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    label = places.place_name(match, locale)
    data = await state.update_data(**_chosen(match, label, data.get("country")))
    await goto("confirm", query, state, clock, data)


@router.message(StateFilter(Reg.country, Reg.zone, Reg.confirm), SharedLocation())
async def on_zone_location(message: Message, state: FSMContext, clock: Clock) -> None:
    assert message.location is not None
    latitude, longitude = message.location.latitude, message.location.longitude
    zone = places.zone_for_location(latitude, longitude)
    if zone is None:
        await message.answer(
            _(
                "That place seems to be at sea, and I can't tell its time zone. Please type the name of your city."
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await message.answer(_("Thank you!"), reply_markup=ReplyKeyboardRemove())
    data = await state.get_data()
    # The member is told the city they live in or next to, not the city naming the zone.
    nearest = places.nearest_place(latitude, longitude, zone)
    if nearest is not None:
        label = places.place_name(nearest, data.get("locale", "ru"))
        await state.update_data(**_chosen(nearest, label, data.get("country")))
    else:
        country = places.zone_country(zone) or data.get("country")
        await state.update_data(zone=zone, city=None, place_id=None, country=country)
    await goto("confirm", message, state, clock)


# At the confirmation step a typed city or a location still works: "no, I live in ...".
@router.message(StateFilter(Reg.zone, Reg.confirm), TypedAnswer())
async def on_zone_text(message: Message, state: FSMContext, clock: Clock) -> None:
    text = (message.text or "").strip()
    if text == _("« Back"):
        await message.answer(_("Back to the list of cities."), reply_markup=ReplyKeyboardRemove())
        await goto("zone", message, state, clock)
        return
    if await _accept_typed_place(message, text, state, clock):
        return
    await message.answer(
        _(
            "I couldn't find “{text}”. Please check the spelling, try a larger city nearby, or share your location."
        ).format(text=text[:100])
    )


async def _accept_typed_place(message: Message, text: str, state: FSMContext, clock: Clock) -> bool:
    """A typed city, IANA zone or UTC offset: confirm it, or offer the places it may mean.

    False when the text names nothing known (the caller says so in its own words).
    """
    data = await state.get_data()
    locale = data.get("locale", "ru")
    try:
        fixed = places.fixed_offset_zone(text[:40])
    except places.OffsetNotAZone:
        await message.answer(offset_without_zone(text[:40]))
        return True
    if fixed is not None:
        await state.update_data(zone=fixed, city=None, place_id=None, pending=None)
        await goto("confirm", message, state, clock)
        return True
    matches = places.resolve_city(text[:200], data.get("country"))
    if not matches:
        return False
    if len(matches) == 1:
        match = matches[0]
        await state.update_data(
            **_chosen(match, places.city_label(match, locale), data.get("country"))
        )
        await goto("confirm", message, state, clock)
        return True
    await state.update_data(pending={place_value(m): places.city_label(m, locale) for m in matches})
    await state.set_state(Reg.confirm)
    text_out, markup = render_zone_choices(matches, locale, clock)
    await message.answer(text_out, reply_markup=markup)
    return True


def offset_without_zone(text: str) -> str:
    return _(
        "No time zone keeps the offset {offset} all year. Please name your city instead, for example: Kolkata."
    ).format(offset=text)


@router.callback_query(StateFilter(Reg.confirm), RegCb.filter(F.step == "confirm"))
async def on_confirm(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    data = await state.get_data()
    if callback_data.value != "yes" or not data.get("zone"):
        await goto("zone", query, state, clock)
        return
    if await _finish_edit(
        query,
        state,
        session,
        member,
        clock,
        zone=data["zone"],
        city=data.get("city"),
        place_id=data.get("place_id"),
        country=data.get("country"),
    ):
        return
    await goto("hours", query, state, clock, data)


@router.callback_query(StateFilter(Reg.confirm), RegCb.filter(F.step == "zone"))
async def on_zone_choice(
    query: CallbackQuery, callback_data: RegCb, state: FSMContext, clock: Clock
) -> None:
    data = await state.get_data()
    match = place_of_value(callback_data.value)
    if match is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    pending = data.get("pending") or {}
    label = pending.get(callback_data.value) or places.place_name(match, data.get("locale", "ru"))
    await state.update_data(**_chosen(match, label, data.get("country")))
    await goto("confirm", query, state, clock)


# ---------------------------------------------------------------- hours


@router.callback_query(StateFilter(Reg.hours), RegCb.filter(F.step == "hours"))
async def on_hours_button(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    try:
        start, end = localtime.parse_hours(callback_data.value)
    except ValueError:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await _accept_hours(query, start, end, state, session, member, clock)


@router.message(StateFilter(Reg.hours), TypedAnswer())
async def on_hours_text(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None, clock: Clock
) -> None:
    try:
        start, end = localtime.parse_hours(message.text or "")
    except ValueError:
        await message.answer(
            _("Please write the hours like 10-20 (from 10:00 to 20:00), or choose a button.")
        )
        return
    await _accept_hours(message, start, end, state, session, member, clock)


async def _accept_hours(
    event: Message | CallbackQuery,
    start: int,
    end: int,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    data = await state.update_data(hours_start=start, hours_end=end)
    if await _finish_edit(event, state, session, member, clock, hours_start=start, hours_end=end):
        return
    await goto("consent", event, state, clock, data)


# ---------------------------------------------------------------- consent


@router.callback_query(StateFilter(Reg.consent), RegCb.filter(F.step == "consent"))
async def on_consent(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    data = await state.get_data()
    if callback_data.value != "yes":
        await state.clear()
        await show(query, _("All right, nothing was stored. If you change your mind, send /start."))
        return
    if query.from_user is None or not data.get("zone"):
        await state.clear()
        await show(
            query, _("Something went missing on the way. Please send /start to begin again.")
        )
        return
    registration = Registration(
        telegram_id=query.from_user.id,
        locale=data.get("locale", "ru"),
        name=data.get("name") or query.from_user.full_name,
        country=data.get("country"),
        zone=data["zone"],
        city=data.get("city"),
        place_id=data.get("place_id"),
        hours_start=int(data.get("hours_start", DEFAULT_HOURS_START)),
        hours_end=int(data.get("hours_end", DEFAULT_HOURS_END)),
    )
    # One unit of work: the member and the notices of the coming meeting land together.
    member = await save_registration(session, registration, member)
    await queue_for_new_member(session, member, clock.now())
    await commit(session)
    await state.clear()
    await show(
        query,
        _(
            "Welcome to the club, {name}! I will tell you about each meeting in your local time."
        ).format(name=member.name)
        + "\n\n"
        + profile_text(member, clock)
        + "\n\n"
        + _("/settings changes it, /help lists what I can do."),
    )


# ---------------------------------------------------------------- edit mode


async def _finish_edit(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    **fields: Any,
) -> bool:
    """In /settings mode, save the one changed field and return to settings."""
    if member is None:
        return False  # registering: there is nothing to edit yet
    data = await state.get_data()
    if data.get("mode") != "edit":
        return False
    await update_member(session, member, **fields)
    await commit(session)
    await state.clear()
    await show(event, _("Saved."))
    await show_settings(event, member, clock, new_message=True)
    return True
