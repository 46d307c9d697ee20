"""Local-time helpers: convert UTC instants to a member's zone and format them with Babel.

All instants passed in are timezone-aware datetimes (normally UTC); all instants returned are
aware UTC datetimes. Wall-clock input is validated against DST gaps and overlaps.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, match_skeleton

DEFAULT_LOCALE = "en"

# Bare "en" is CLDR's en_US (month-first dates); the club is international, so use
# "world English" (en_001: "Saturday 16 January"). Explicit "en_US" etc. are kept as given.
_LOCALE_ALIASES = {"en": "en_001"}

# Time first for ru/en ("14:32, суббота"), weekday first for zh ("星期六 14:32"), as the
# registration confirmation reads best that way; other locales use CLDR's date-time glue.
_CLOCK_PATTERNS = {"ru": "HH:mm, cccc", "en": "HH:mm, cccc", "zh": "cccc HH:mm"}

_MINUS = "\u2212"  # typographic minus, as in "UTC−5"
_DAY_MINUTES = 24 * 60


class LocalTimeError(ValueError):
    """A wall-clock time that does not map to exactly one instant in `zone`.

    `candidates` holds the two possible UTC instants, earliest first.
    """

    def __init__(
        self, message: str, zone: str, local: datetime, candidates: tuple[datetime, datetime]
    ):
        super().__init__(message)
        self.zone = zone
        self.local = local  # naive wall-clock time as typed
        self.candidates = tuple(sorted(candidates))

    @property
    def earlier(self) -> datetime:
        return self.candidates[0]

    @property
    def later(self) -> datetime:
        return self.candidates[1]


class NonexistentLocalTime(LocalTimeError):
    """The wall-clock time falls into a DST gap (clocks jumped over it).

    `candidates` are the readings with the offset before and after the jump; `later` is what
    most calendars pick (e.g. Berlin 02:30 on the spring-forward day -> 03:30 CEST).
    """


class AmbiguousLocalTime(LocalTimeError):
    """The wall-clock time occurs twice (clocks went back): `earlier` is the summer-time one."""


# --- locales and zones -------------------------------------------------------------------


@lru_cache(maxsize=64)
def babel_locale(locale: str | None) -> Locale:
    """Babel Locale for 'ru', 'en', 'zh' or Telegram-style codes ('en-US', 'zh-hant').

    Unknown codes fall back to English rather than failing a message.
    """
    code = (locale or DEFAULT_LOCALE).strip().replace("-", "_")
    code = _LOCALE_ALIASES.get(code.lower(), code)
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_LOCALE_ALIASES[DEFAULT_LOCALE])


@lru_cache(maxsize=1024)
def get_zone(zone: str) -> ZoneInfo:
    """ZoneInfo for an IANA name; ValueError (not KeyError) for unknown names.

    Cached: ZoneInfo keeps only 8 zones strongly, and a country's zone list is ~30.
    """
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {zone!r}") from exc


def _require_aware(dt: datetime) -> None:
    # A naive datetime would silently be read as the server's local time.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")


def to_local(dt_utc: datetime, zone: str) -> datetime:
    """The same instant as an aware datetime in `zone`."""
    _require_aware(dt_utc)
    return dt_utc.astimezone(get_zone(zone))


# --- formatting ------------------------------------------------------------------------------


def _widen_weekday(pattern: str) -> str:
    """Turn abbreviated weekday fields (E, EEE, ccc) into full ones, outside quoted text.

    Babel's skeleton matching does not widen fields, and CLDR only has short-weekday
    skeletons like "MMMMEd".
    """
    parts = pattern.split("'")
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = re.sub(r"(?<!E)E{1,3}(?!E)", "EEEE", parts[i])
        parts[i] = re.sub(r"(?<!c)c{1,3}(?!c)", "cccc", parts[i])
    return "'".join(parts)


def _glue(loc: Locale, date_pattern: str, time_pattern: str) -> str:
    """Combine date and time patterns with the locale's own separator ("{1}, {0}" etc.)."""
    glue = str(loc.datetime_formats.get("full", "{1} {0}"))
    return glue.replace("{1}", date_pattern).replace("{0}", time_pattern)


@lru_cache(maxsize=64)
def _meeting_pattern(loc: Locale, with_year: bool) -> str:
    skeletons = loc.datetime_skeletons
    date_key = match_skeleton("yMMMMEd" if with_year else "MMMMEd", skeletons)
    date_pattern = _widen_weekday(str(skeletons[date_key])) if date_key else "EEEE d MMMM"
    return _glue(loc, date_pattern, _time_pattern(loc))


def _time_pattern(loc: Locale) -> str:
    # Skeleton "Hm" forces the 24-hour clock while keeping the locale's separator.
    pattern = loc.datetime_skeletons.get("Hm")
    return str(pattern) if pattern else "HH:mm"


def format_meeting_time(
    dt_utc: datetime, zone: str, locale: str, *, with_year: bool = False
) -> str:
    """'суббота, 16 января, 10:00' / 'Saturday 16 January, 10:00' / '1月16日星期六 10:00'."""
    loc = babel_locale(locale)
    local = to_local(dt_utc, zone)
    return format_datetime(local, _meeting_pattern(loc, with_year), tzinfo=local.tzinfo, locale=loc)


def format_clock_now(now_utc: datetime, zone: str, locale: str) -> str:
    """'14:32, суббота' / '14:32, Saturday' / '星期六 14:32' - a member's current wall clock."""
    # Shown to the minute, so members in one zone share the formatting within a minute.
    return _clock_at_minute(now_utc.replace(second=0, microsecond=0), zone, locale)


@lru_cache(maxsize=1024)
def _clock_at_minute(now_utc: datetime, zone: str, locale: str) -> str:
    loc = babel_locale(locale)
    pattern = _CLOCK_PATTERNS.get(loc.language) or _glue(loc, "cccc", _time_pattern(loc))
    local = to_local(now_utc, zone)
    return format_datetime(local, pattern, tzinfo=local.tzinfo, locale=loc)


def format_utc_offset(dt_utc: datetime, zone: str) -> str:
    """Offset of `zone` at that instant: 'UTC+10', 'UTC−5', 'UTC+5:30', 'UTC+0'."""
    offset = to_local(dt_utc, zone).utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else _MINUS
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


# --- availability windows ------------------------------------------------------------------

_CLOCK_RE = r"(\d{1,2})(?:[:.](\d{2}))?"
_HOURS_RE = re.compile(rf"^{_CLOCK_RE}\s*(?:-|‐|‑|‒|–|—|−|to|до)\s*{_CLOCK_RE}$", re.IGNORECASE)


def _clock_minutes(hours: str, minutes: str | None, *, allow_24: bool) -> int:
    h, m = int(hours), int(minutes or 0)
    if m > 59:
        raise ValueError(f"minutes must be 00-59, got {m:02d}")
    total = h * 60 + m
    limit = _DAY_MINUTES if allow_24 else _DAY_MINUTES - 1
    if total > limit:
        raise ValueError(f"{h:02d}:{m:02d} is not a time of day")
    return total


def parse_hours(text: str) -> tuple[int, int]:
    """'10-20', '9–21', '09:00-21:00', '10 - 20' -> (start, end) in minutes since midnight.

    End may be 24:00 (1440). End before start means the window crosses midnight ('22-02').
    Raises ValueError with a reason for malformed, out-of-range or empty windows.
    """
    match = _HOURS_RE.match(text.strip())
    if not match:
        raise ValueError(f"expected a range like 10-20 or 09:00-21:00, got {text!r}")
    start = _clock_minutes(match[1], match[2], allow_24=False)
    end = _clock_minutes(match[3], match[4], allow_24=True)
    if start == end:  # "0-24" (whole day) is fine; "10-10" is empty or ambiguous
        raise ValueError("start and end are the same time")
    return start, end


def format_hours(start_min: int, end_min: int) -> str:
    """(540, 1260) -> '09:00–21:00'; 1440 is shown as 24:00."""
    if not (0 <= start_min < _DAY_MINUTES and 0 <= end_min <= _DAY_MINUTES):
        raise ValueError(f"minutes out of range: {start_min}, {end_min}")
    return f"{_hhmm(start_min)}–{_hhmm(end_min)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hours_contain(start_min: int, end_min: int, minute: int) -> bool:
    """Whether `minute` (since local midnight) lies in [start, end), handling midnight wrap."""
    if start_min < end_min:
        return start_min <= minute < end_min
    return minute >= start_min or minute < end_min


# --- wall-clock input ------------------------------------------------------------------------

_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED_DATE_RE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")  # 28.03.2027, 28/03/2027
_TIME_RE = re.compile(rf"^{_CLOCK_RE}$")


def parse_date(text: str) -> date:
    """'2027-03-28' or '28.03.2027' -> date; ValueError with a reason otherwise."""
    text = text.strip()
    if m := _ISO_DATE_RE.match(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DOTTED_DATE_RE.match(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError(f"expected a date like 2027-03-28 or 28.03.2027, got {text!r}")
    try:
        return date(year, month, day)
    except ValueError as exc:  # "day is out of range for month" etc.
        raise ValueError(f"{text}: {exc}") from exc


def parse_time(text: str) -> time:
    """'10:00', '9:30', '21.15' or '10' -> time; 24:00 is not accepted."""
    m = _TIME_RE.match(text.strip())
    if not m:
        raise ValueError(f"expected a time like 10:00, got {text!r}")
    return time(*divmod(_clock_minutes(m[1], m[2], allow_24=False), 60))


def parse_local_datetime(date_str: str, time_str: str, zone: str) -> datetime:
    """Wall-clock date and time in `zone` -> aware UTC datetime.

    Raises NonexistentLocalTime for times skipped by a DST jump, AmbiguousLocalTime for
    times that occur twice, and ValueError for malformed or impossible dates/times.
    """
    tz = get_zone(zone)
    naive = datetime.combine(parse_date(date_str), parse_time(time_str))
    # PEP 495: fold=0 uses the offset before a transition, fold=1 the one after.
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first.astimezone(tz).replace(tzinfo=None) != naive:
        # Neither reading round-trips to the typed wall time: it lies in a gap.
        raise NonexistentLocalTime(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (clocks jump forward)",
            zone,
            naive,
            (first, second),
        )
    raise AmbiguousLocalTime(
        f"{naive:%Y-%m-%d %H:%M} occurs twice in {zone} (clocks go back)",
        zone,
        naive,
        (first, second),
    )


def format_day(day: date, locale: str) -> str:
    """A calendar day in the member's language: "суббота, 13 февраля" / "Saturday 13 February"."""
    loc = babel_locale(locale)
    return format_date(day, format=_day_pattern(loc), locale=loc)


@lru_cache(maxsize=64)
def _day_pattern(loc: Locale) -> str:
    key = match_skeleton("MMMMEd", loc.datetime_skeletons)
    return _widen_weekday(str(loc.datetime_skeletons[key])) if key else "EEEE d MMMM"
