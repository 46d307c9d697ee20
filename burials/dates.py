"""Partial dates as sources give them: «1923», «1923-05», «1923-05-14», maybe Old Style.

An Old Style (Julian) date is marked with a suffix: «1910-02-29 OS», «1910-02-29 ст. ст.»,
«1910-02-29 (O.S.)». It is stored as written with a flag, never converted: the source's
day is the evidence. The Julian calendar has a 29 February in every fourth year, 1900
included, so «1900-02-29 OS» is a real day while «1900-02-29» is not.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from ground.i18n import N_

MIN_YEAR = 1000
MAX_YEAR = 2200
_SHAPE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_OLD_STYLE = re.compile(
    r"\s*[\(\[]?\s*(?:o\.?\s*s\.?|ст\.?\s*ст\.?|старого\s+стиля|julian)\s*[\)\]]?\s*$",
    re.IGNORECASE,
)


class DateError(ValueError):
    """A date that is not one; `message` is a translatable one-line reason."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None
    old_style: bool = False

    def iso(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text

    def __str__(self) -> str:
        return self.iso() + (" OS" if self.old_style else "")


def _days_in_month(year: int, month: int, old_style: bool) -> int:
    if month == 2 and old_style:
        return 29 if year % 4 == 0 else 28
    return calendar.monthrange(year, month)[1]


def parse_partial_date(text: str | None) -> PartialDate | None:
    """None for an empty cell; DateError for anything that is not a real (partial) date."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    old_style = False
    marker = _OLD_STYLE.search(raw)
    if marker and marker.start() > 0:
        old_style = True
        raw = raw[: marker.start()].strip()
    shape = _SHAPE.match(raw)
    if shape is None:
        raise DateError(
            N_("«{value}» is not a date: write 1923, 1923-05 or 1923-05-14"), value=text.strip()
        )
    year = int(shape.group(1))
    month = int(shape.group(2)) if shape.group(2) else None
    day = int(shape.group(3)) if shape.group(3) else None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError(N_("«{value}» is not a date: the year is out of range"), value=text.strip())
    if month is not None and not 1 <= month <= 12:
        raise DateError(
            N_("«{value}» is not a date: there is no month {month}"),
            value=text.strip(),
            month=month,
        )
    if month is not None and day is not None:
        last = _days_in_month(year, month, old_style)
        if not 1 <= day <= last:
            raise DateError(
                N_("«{value}» is not a date: that month has {days} days"),
                value=text.strip(),
                days=last,
            )
    return PartialDate(year, month, day, old_style)


def year_of(stored: str | None) -> int | None:
    return int(stored[:4]) if stored else None


_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})(?=\D|$)(.*)$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[./](\d{4})(?=\D|$)(.*)$")


def parse_typed_date(text: str | None) -> PartialDate | None:
    """As `parse_partial_date`, also taking the way people write dates by hand in Russia
    and Europe: «14.05.1923», «14/05/1923», «05.1923» (day first, never month first)."""
    raw = (text or "").strip()
    if match := _DAY_MONTH_YEAR.match(raw):
        day, month, year, rest = match.groups()
        raw = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
    elif match := _MONTH_YEAR.match(raw):
        month, year, rest = match.groups()
        raw = f"{year}-{int(month):02d}{rest}"
    return parse_partial_date(raw)
