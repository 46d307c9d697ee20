"""Members, their grouping by (zone, hours, ...), and loading a roster CSV with clear errors.

The planner's work scales with the number of distinct groups, not members: members who share
a zone, stated hours, holiday country and unavailability feel every slot the same way.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.planner.cost import MINUTES_PER_DAY, CostProfile, Window
from scheduling.planner.errors import RosterError

MemberKey = int | str

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUIRED_COLUMNS = ("name", "city", "zone", "earliest", "latest")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Member:
    """One club member. `hours` None means no stated hours (the benchmark's default curve)."""

    key: MemberKey
    city: str
    zone: str
    hours: Window | None = None
    country: str | None = None
    unavailable_weekdays: frozenset[int] = frozenset()
    unavailable_dates: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Group:
    """Members who feel every slot the same way; `members` and `cities` are sorted."""

    zone: str
    profile: CostProfile
    country: str | None
    unavailable_weekdays: frozenset[int]
    unavailable_dates: frozenset[date]
    members: tuple[MemberKey, ...] = field(compare=False)
    cities: tuple[tuple[str, int], ...] = field(compare=False)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def date_sensitive(self) -> bool:
        return self.country is not None or bool(self.unavailable_dates)

    def label(self) -> str:
        """Cities for messages: the largest two, then 'and others'."""
        names = [city for city, _ in self.cities[:2]]
        text = " / ".join(names)
        return text + (" and others" if len(self.cities) > 2 else "")


def _mixed_sort_key(key: MemberKey) -> tuple[int, int, str]:
    # Ints and strs may both be keys; sort them without comparing across types.
    return (0, key, "") if isinstance(key, int) else (1, 0, str(key))


def _sorted_keys(keys: list[MemberKey]) -> tuple[MemberKey, ...]:
    try:
        return tuple(sorted(keys))
    except TypeError:
        return tuple(sorted(keys, key=_mixed_sort_key))


def _group_sort_key(group_key: tuple) -> tuple:
    zone, hours, country, weekdays, dates = group_key
    window = (-1, -1) if hours is None else (hours.start, hours.end)
    return (zone, window, country or "", tuple(sorted(weekdays)), tuple(sorted(dates)))


_GROUP_KEY = attrgetter("zone", "hours", "country", "unavailable_weekdays", "unavailable_dates")


def group_members(members: Iterable[Member]) -> list[Group]:
    """Group members that feel slots the same way; the result does not depend on input order."""
    buckets: dict[tuple, list[Member]] = defaultdict(list)
    for member in members:
        buckets[_GROUP_KEY(member)].append(member)
    groups = []
    for key in sorted(buckets, key=_group_sort_key):
        zone, hours, country, weekdays, dates = key
        bucket = buckets[key]
        city_counts = Counter(map(_CITY, bucket))
        groups.append(
            Group(
                zone=zone,
                profile=CostProfile(hours),
                country=country,
                unavailable_weekdays=weekdays,
                unavailable_dates=dates,
                members=_sorted_keys(list(map(_KEY, bucket))),
                cities=tuple(sorted(city_counts.items(), key=lambda item: (-item[1], item[0]))),
            )
        )
    return groups


_CITY = attrgetter("city")
_KEY = attrgetter("key")


def parse_clock(text: str, *, allow_24: bool) -> int:
    """'HH:MM' -> minutes after midnight; '24:00' only where an end of day makes sense."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time of day; write HH:MM, e.g. 09:30")
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > MINUTES_PER_DAY or (total == MINUTES_PER_DAY and not allow_24):
        raise ValueError(f"'{text}' is not a time of day; hours run 00-23 and minutes 00-59")
    return total


def parse_hours(earliest: str, latest: str) -> Window | None:
    """Stated hours; latest before earliest is allowed and means the hours run across midnight."""
    earliest, latest = earliest.strip(), latest.strip()
    if not earliest and not latest:
        return None
    if not earliest or not latest:
        raise ValueError("give both earliest and latest, or leave both empty for no stated hours")
    start = parse_clock(earliest, allow_24=False)
    end = parse_clock(latest, allow_24=True)
    if start == end % MINUTES_PER_DAY:
        raise ValueError(
            f"earliest and latest are both {earliest}; leave both empty if any hour suits"
        )
    return Window(start, end)


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone '{zone}'; use an IANA name such as Europe/Berlin"
        ) from None
    return zone


def parse_unavailable(text: str) -> tuple[frozenset[int], frozenset[date]]:
    """'sun; 2027-05-09' -> weekdays and dates the member cannot make (local to the member)."""
    weekdays: set[int] = set()
    dates: set[date] = set()
    for token in re.split(r"[;\s]+", text.strip().lower()):
        if not token:
            continue
        if token[:3] in WEEKDAY_NAMES and token.isalpha():
            weekdays.add(WEEKDAY_NAMES.index(token[:3]))
            continue
        try:
            dates.add(date.fromisoformat(token))
        except ValueError:
            raise ValueError(
                f"'{token}' in 'unavailable' is neither a weekday (mon..sun) nor a date YYYY-MM-DD"
            ) from None
    return frozenset(weekdays), frozenset(dates)


def _parse_country(text: str) -> str | None:
    code = text.strip().upper()
    if not code:
        return None
    from scheduling.planner.holidays_calendar import is_supported_country

    if not is_supported_country(code):
        raise ValueError(f"no public-holiday calendar for country code '{text.strip()}'")
    return code


def parse_roster(lines: Iterable[str]) -> list[Member]:
    """Read CSV `name,city,zone,earliest,latest[,country][,unavailable]` into members.

    Raises RosterError(line, reason) for the first bad row, or for an empty roster.
    """
    reader = csv.DictReader(lines)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RosterError(1, f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    members: list[Member] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cells = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if not any(cells.values()):
            continue
        members.append(_member_from_row(cells, line, first_line))
    if not members:
        raise RosterError(None, "the roster has no members")
    return members


def _member_from_row(cells: dict[str, str], line: int, first_line: dict[str, int]) -> Member:
    name = cells["name"]
    if not name:
        raise RosterError(line, "the name is empty")
    if name in first_line:
        raise RosterError(line, f"'{name}' appears twice (first on line {first_line[name]})")
    first_line[name] = line
    try:
        zone = check_zone(cells["zone"])
        hours = parse_hours(cells["earliest"], cells["latest"])
        country = _parse_country(cells.get("country", ""))
        weekdays, dates = parse_unavailable(cells.get("unavailable", ""))
    except ValueError as error:
        raise RosterError(line, str(error)) from None
    city = cells["city"] or zone.rsplit("/", 1)[-1].replace("_", " ")
    return Member(name, city, zone, hours, country, weekdays, dates)


def load_roster(path: str | Path) -> list[Member]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return parse_roster(handle)
    except OSError as error:
        raise RosterError(None, f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RosterError(None, f"{path} is not UTF-8 text") from None


def total_members(groups: Sequence[Group]) -> int:
    return sum(group.size for group in groups)
