"""Public holidays per member country (the `holidays` package), used as date penalties.

A holiday costs each member of that country `holiday_penalty` at a meeting on that local date,
so a date is avoided in proportion to how many members it affects. Orthodox Easter Sunday is
added for countries with an Orthodox majority: it is not a public holiday there (it is always
a Sunday), but clubs avoid it.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

ORTHODOX_COUNTRIES = frozenset({"RU", "BY", "UA", "RS", "GE", "GR", "BG", "RO", "MD", "ME", "MK"})


@cache
def _supported() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def is_supported_country(code: str) -> bool:
    return code.upper() in _supported()


def orthodox_easter(year: int) -> date:
    """Orthodox Easter Sunday (Gregorian date): Meeus' Julian computus plus the calendar gap."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    julian_gap = year // 100 - year // 400 - 2
    return date(year, month, day + 1) + timedelta(days=julian_gap)


@cache
def holiday_names(country: str, year: int) -> dict[date, str]:
    """Dates to avoid for members of `country` in `year`, with their names."""
    names = dict(holidays.country_holidays(country, years=year).items())
    if country in ORTHODOX_COUNTRIES:
        names.setdefault(orthodox_easter(year), "Orthodox Easter")
    return names


def is_holiday(country: str | None, day: date) -> bool:
    return country is not None and day in holiday_names(country, day.year)
