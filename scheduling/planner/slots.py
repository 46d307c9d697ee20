"""The club's rules and the candidate meeting starts they allow in a month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.planner.errors import RulesError
from scheduling.planner.months import YearMonth
from scheduling.planner.roster import WEEKDAY_NAMES, check_zone


@dataclass(frozen=True, slots=True)
class Rules:
    """Which starts are allowed.

    `weekdays` (Mon=0) and `weeks_of_month` (1 = days 1-7, 2 = days 8-14, ...) are read in the
    calendar of `days_zone`, and the month a slot belongs to is its date in that zone. Starts
    run every `step_minutes` from that zone's midnight.
    """

    weekdays: frozenset[int] = frozenset({5, 6})
    days_zone: str = "UTC"
    step_minutes: int = 30
    duration_minutes: int = 90
    weeks_of_month: frozenset[int] | None = None
    avoid_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise RulesError("allowed weekdays must be a non-empty subset of mon..sun")
        try:
            check_zone(self.days_zone)
        except ValueError as error:
            raise RulesError(f"days zone: {error}") from None
        if not 1 <= self.step_minutes <= 1440:
            raise RulesError("the slot step must be between 1 and 1440 minutes")
        if not 1 <= self.duration_minutes <= 1440:
            raise RulesError("the meeting duration must be between 1 and 1440 minutes")
        if self.weeks_of_month is not None and (
            not self.weeks_of_month or not self.weeks_of_month <= set(range(1, 6))
        ):
            raise RulesError("weeks of the month must be numbers from 1 to 5")

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


def parse_weekdays(text: str) -> frozenset[int]:
    """'sat,sun' -> {5, 6}; full names and any case are fine."""
    days = set()
    for token in text.replace(";", ",").split(","):
        token = token.strip().lower()
        if not token:
            continue
        if token[:3] not in WEEKDAY_NAMES or not token.isalpha():
            raise RulesError(f"'{token}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun")
        days.add(WEEKDAY_NAMES.index(token[:3]))
    if not days:
        raise RulesError("no weekday given")
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class CandidateDay:
    """One allowed date: starts run from `first_start` every step while before `day_end`."""

    day: date
    first_start: datetime
    day_end: datetime
    step: timedelta

    def starts(self) -> Iterable[datetime]:
        start = self.first_start
        while start < self.day_end:
            yield start
            start += self.step

    @property
    def count(self) -> int:
        return -(-(self.day_end - self.first_start) // self.step)


def candidate_days(rules: Rules, month: YearMonth) -> list[CandidateDay]:
    """Allowed dates of the month, each with the UTC span of that date in the rules' zone."""
    zone = ZoneInfo(rules.days_zone)
    step = timedelta(minutes=rules.step_minutes)
    days = []
    day = month.first_day()
    while day.month == month.month:
        week = (day.day - 1) // 7 + 1
        allowed = day.weekday() in rules.weekdays and day not in rules.avoid_dates
        if allowed and (rules.weeks_of_month is None or week in rules.weeks_of_month):
            # Local midnights converted to UTC give 23- or 25-hour days across DST changes.
            start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
            following = day + timedelta(days=1)
            end = datetime(following.year, following.month, following.day, tzinfo=zone)
            days.append(CandidateDay(day, start, end.astimezone(UTC), step))
        day += timedelta(days=1)
    return days


def candidate_starts(rules: Rules, month: YearMonth) -> list[datetime]:
    """Every allowed start of the month as an aware UTC datetime, earliest first."""
    return [start for day in candidate_days(rules, month) for start in day.starts()]
