"""Parsing an organiser's "YYYY-MM-DD HH:MM [zone or city]" into a UTC instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiogram.utils.i18n import gettext as _

from db.models import Member
from scheduling.geo import localtime, places


@dataclass(frozen=True)
class ParsedTime:
    starts_at: datetime | None
    zone: str | None
    error: str | None = None


def resolve_zone_arg(text: str) -> str | None:
    zone = places.canonical_zone(text)
    if zone:
        return zone
    try:
        fixed = places.fixed_offset_zone(text)  # UTC, UTC+3, GMT-5
    except places.OffsetNotAZone:
        return None
    if fixed:
        return fixed
    matches = places.resolve_city(text)
    zones = {m.zone for m in matches}
    return matches[0].zone if len(zones) == 1 else None


def parse_meeting_time(args: str | None, organiser: Member | None) -> ParsedTime:
    """Returns the instant, or a translated, specific reason why not."""
    usage = _(
        "Please write it like this: /meeting 2027-01-16 10:00 Europe/Moscow (the zone is optional)."
    )
    parts = (args or "").split(maxsplit=2)
    if len(parts) < 2:
        return ParsedTime(None, None, usage)
    date_text, time_text = parts[0], parts[1]
    try:  # a bad date is reported as a bad date, before anything about the zone
        localtime.parse_date(date_text)
        localtime.parse_time(time_text)
    except ValueError:
        return ParsedTime(None, None, _("I can't read that date or time. ") + usage)
    if len(parts) == 3:
        zone = resolve_zone_arg(parts[2])
        if zone is None:
            return ParsedTime(
                None,
                None,
                _(
                    "I don't know the time zone “{zone}”. Use an IANA name such as Europe/Moscow or a city."
                ).format(zone=parts[2][:64]),
            )
    elif organiser is not None and organiser.zone:
        zone = organiser.zone
    else:
        return ParsedTime(
            None,
            None,
            _("Please add the time zone, e.g. Europe/Moscow: you have not registered your own."),
        )
    try:
        starts_at = localtime.parse_local_datetime(date_text, time_text, zone)
    except localtime.NonexistentLocalTime:
        return ParsedTime(
            None,
            zone,
            _(
                "That time does not exist in {zone} on that day: the clocks jump forward over it. Please choose another time."
            ).format(zone=zone),
        )
    except localtime.AmbiguousLocalTime:
        return ParsedTime(
            None,
            zone,
            _(
                "That time happens twice in {zone} on that day, because the clocks go back. Please choose another time."
            ).format(zone=zone),
        )
    except ValueError:
        return ParsedTime(None, zone, _("I can't read that date or time. ") + usage)
    return ParsedTime(starts_at, zone)
