"""What a member sees of their own profile: the summary and the settings menu."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from db.models import Member
from ground.clock import Clock
from handlers.callbacks import SettingsCb
from handlers.i18n import cached_per_locale
from handlers.keyboards import Keyboard
from handlers.replies import show
from scheduling.geo import localtime, places
from scheduling.geo.stored_place import place_label

LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "zh": "中文"}


def profile_text(member: Member, clock: Clock) -> str:
    """What we store about the member, in their language and local time."""
    # Shown on /me and after every change: the same text for the same profile within a
    # minute, so it is built once (it names places and formats times in the language).
    minute = clock.now().replace(second=0, microsecond=0)
    return _profile_text(
        member.name,
        member.locale,
        member.country,
        member.zone or "UTC",
        member.city,
        member.place_id,
        member.hours_start,
        member.hours_end,
        minute,
    )


@cached_per_locale(maxsize=2048)
def _profile_text(
    name: str | None,
    locale: str,
    country_code: str | None,
    zone: str,
    city: str | None,
    place_id: int | None,
    hours_start: int,
    hours_end: int,
    now: datetime,
) -> str:
    country = places.country_name(country_code, locale) if country_code else "—"
    lines = [
        _("Name: {name}").format(name=name),
        _("Language: {language}").format(language=LANGUAGE_NAMES.get(locale, locale)),
        _("Country: {country}").format(country=country),
        _place_line(zone, locale, place_id, city, country_code, now),
        _("Your local time now: {clock}").format(
            clock=localtime.format_clock_now(now, zone, locale)
        ),
        _("Hours that suit you: {hours}").format(
            hours=localtime.format_hours(hours_start, hours_end)
        ),
    ]
    return "\n".join(lines)


def place_line(member: Member, clock: Clock) -> str:
    """'Place: Harbin (UTC+8)' in the member's language, whatever language they typed it in."""
    zone = member.zone or "UTC"
    return _place_line(
        zone, member.locale, member.place_id, member.city, member.country, clock.now()
    )


def _place_line(
    zone: str,
    locale: str,
    place_id: int | None,
    city: str | None,
    country: str | None,
    now: datetime,
) -> str:
    if places.is_fixed_zone(zone):
        return _("Time zone: {offset}, a fixed offset (no daylight-saving changes)").format(
            offset=places.zone_label(zone, locale)
        )
    place = place_label(place_id, city, zone, locale, country)
    offset = localtime.format_utc_offset(now, zone)
    return _("Place: {place} ({offset})").format(place=place, offset=offset)


def settings_markup() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("Language"), callback_data=SettingsCb(action="lang"))
    builder.button(text=_("Name"), callback_data=SettingsCb(action="name"))
    builder.button(text=_("Time zone"), callback_data=SettingsCb(action="country"))
    builder.button(text=_("Hours"), callback_data=SettingsCb(action="hours"))
    builder.button(text=_("Reminders"), callback_data=SettingsCb(action="reminders"))
    builder.button(text=_("Delete my data"), callback_data=SettingsCb(action="forget"))
    builder.button(text=_("Done"), callback_data=SettingsCb(action="close"))
    builder.adjust(2, 2, 1, 1, 1)
    return builder.as_markup()


async def show_settings(
    event: Message | CallbackQuery, member: Member, clock: Clock, *, new_message: bool = False
) -> None:
    text = profile_text(member, clock) + "\n\n" + _("What would you like to change?")
    if new_message and isinstance(event, CallbackQuery):
        await event.bot.send_message(member.telegram_id, text, reply_markup=settings_markup())  # type: ignore[union-attr]
        return
    await show(event, text, settings_markup())
