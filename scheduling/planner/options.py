"""Turn a month's candidate starts into distinct options: one cost vector over member groups.

Work is per (kind of day, step, group), never per member: days that share the weekday, the
zones' UTC offsets and the holiday pattern give identical vectors at the same time of day, so
each such "day type" is costed once. Starts with an identical vector collapse to the earliest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import mul
from zoneinfo import ZoneInfo

from scheduling.planner.cost import (
    DEFAULT_COMFORT,
    MINUTES_PER_DAY,
    CostProfile,
    cost_of_blocks,
    meeting_cost,
    split_blocks,
)
from scheduling.planner.errors import NoSlotError
from scheduling.planner.holidays_calendar import is_holiday
from scheduling.planner.months import YearMonth
from scheduling.planner.roster import Group
from scheduling.planner.slots import CandidateDay, Rules, candidate_days


@dataclass(frozen=True, slots=True)
class Penalties:
    """Extra cost for a member at a meeting on their public holiday, or when they cannot come."""

    holiday: float = 8.0
    unavailable: float = 16.0


@dataclass(frozen=True, slots=True)
class Option:
    """A distinct choice for one month: its earliest start and what it costs each group."""

    start_utc: datetime
    costs: tuple[float, ...]
    nights: int  # bit i set: group i has a night
    total: float  # summed over members


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one start means for one group, computed exactly (block by block, zoneinfo)."""

    local_start: datetime
    local_end: datetime
    cost: float
    night: bool
    outside_hours: bool
    inside_09_21: bool
    holiday: bool
    unavailable: bool


def _offset_minutes(zone: ZoneInfo, instant: datetime) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds()) // 60


def _date_penalty(group: Group, local_day: date, penalties: Penalties) -> tuple[float, bool]:
    """(penalty, unavailable) of a group on its local meeting date and weekday."""
    unavailable = (
        local_day.weekday() in group.unavailable_weekdays or local_day in group.unavailable_dates
    )
    penalty = penalties.unavailable if unavailable else 0.0
    if is_holiday(group.country, local_day):
        penalty += penalties.holiday
    return penalty, unavailable


def group_outcome(
    group: Group, start_utc: datetime, duration: int, penalties: Penalties
) -> Outcome:
    """The exact local picture of one start for one group (used for tables and metrics)."""
    zone = ZoneInfo(group.zone)
    local_start = start_utc.astimezone(zone)
    blocks = []
    for offset, length in split_blocks(duration):
        local = (start_utc + timedelta(minutes=offset)).astimezone(zone)
        blocks.append((local.weekday(), local.hour * 60 + local.minute, length))
    cost, night = cost_of_blocks(group.profile, blocks)
    penalty, unavailable = _date_penalty(group, local_start.date(), penalties)
    start_minute = local_start.hour * 60 + local_start.minute
    return Outcome(
        local_start=local_start,
        local_end=(start_utc + timedelta(minutes=duration)).astimezone(zone),
        cost=cost + penalty,
        night=night,
        outside_hours=not group.profile.comfort.contains_span(start_minute, duration),
        inside_09_21=DEFAULT_COMFORT.contains_span(start_minute, duration),
        holiday=is_holiday(group.country, local_start.date()),
        unavailable=unavailable,
    )


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = date(1970, 1, 1).weekday()


class _DayTypeCoster:
    """Costs every start of one day type for all groups, reusing per-profile tables."""

    def __init__(self, groups: Sequence[Group], duration: int, penalties: Penalties) -> None:
        self.groups = groups
        self.duration = duration
        self.penalties = penalties
        self.zones = sorted({group.zone for group in groups})
        self.zone_infos = [ZoneInfo(name) for name in self.zones]
        zone_position = {name: index for index, name in enumerate(self.zones)}
        self.group_zone = [zone_position[group.zone] for group in groups]
        self.checks_date = [
            i
            for i, group in enumerate(groups)
            if group.date_sensitive or group.unavailable_weekdays
        ]
        self.sizes = [group.size for group in groups]
        self.everyone = sum(self.sizes)
        # Lazily filled tables per cost profile, indexed by local weekday * 1440 + minute.
        profiles = sorted({group.profile for group in groups}, key=repr)
        self.cost_tables = {p: [None] * (7 * MINUTES_PER_DAY) for p in profiles}
        self.night_tables = {p: [False] * (7 * MINUTES_PER_DAY) for p in profiles}
        self.lookups = [
            (self.cost_tables[g.profile], self.group_zone[i]) for i, g in enumerate(groups)
        ]
        self.night_lookups = [
            (1 << i, self.night_tables[g.profile], self.group_zone[i]) for i, g in enumerate(groups)
        ]
        self.date_zones = sorted({self.group_zone[i] for i in self.checks_date})
        # Starts with the same local clock (and, where dates matter, local date) in every
        # zone cost the same, whatever the month: remember them.
        self.memo: dict[tuple, tuple[tuple[float, ...], int] | None] = {}

    def offsets(self, day: CandidateDay) -> list[int | None]:
        """Each zone's UTC offset (minutes) for the whole day; None where it changes."""
        end = day.day_end + timedelta(minutes=self.duration)
        offsets: list[int | None] = []
        for zone in self.zone_infos:
            first = _offset_minutes(zone, day.first_start)
            offsets.append(first if first == _offset_minutes(zone, end) else None)
        return offsets

    def day_key(self, day: CandidateDay, offsets: list[int | None]) -> tuple:
        """Days with equal keys give equal vectors at equal steps after their first start."""
        if None in offsets:
            return ("transition", day.day)  # costed on its own
        start = day.first_start
        holidays = []
        for index in self.checks_date:
            offset = timedelta(minutes=offsets[self.group_zone[index]])
            first_day = (start + offset).date()
            last_day = (day.day_end + offset).date()
            span = range((last_day - first_day).days + 1)
            holidays.append(
                tuple(
                    _date_penalty(self.groups[index], first_day + timedelta(n), self.penalties)
                    for n in span
                )
            )
        return (
            start.weekday(),
            start.hour * 60 + start.minute,
            day.count,
            day.step,
            tuple(offsets),
            tuple(holidays),
        )

    def _fill(self, slots: Sequence[int]) -> None:
        for index, (table, zone) in enumerate(self.lookups):
            slot = slots[zone]
            if table[slot] is None:
                profile = self.groups[index].profile
                weekday, minute = divmod(slot, MINUTES_PER_DAY)
                cost, night = meeting_cost(profile, weekday, minute, self.duration)
                table[slot] = cost
                self.night_tables[profile][slot] = night

    def vectors(
        self, day: CandidateDay, offsets: list[int | None]
    ) -> list[tuple[datetime, tuple[float, ...], int] | None]:
        """(start, costs, nights) per start of the day; None where every member is unavailable."""
        results: list[tuple[datetime, tuple[float, ...], int] | None] = []
        changing = [z for z, offset in enumerate(offsets) if offset is None]
        duration = timedelta(minutes=self.duration)
        for start in day.starts():
            minutes = int(start.timestamp()) // 60
            zone_offsets = list(offsets)
            straddled = set()
            for z in changing:
                zone = self.zone_infos[z]
                zone_offsets[z] = _offset_minutes(zone, start)
                if zone_offsets[z] != _offset_minutes(zone, start + duration):
                    straddled.add(z)  # the meeting itself spans the change
            day_numbers = []
            slots = []
            for offset in zone_offsets:
                day_number, minute = divmod(minutes + offset, MINUTES_PER_DAY)
                day_numbers.append(day_number)
                slots.append(((day_number + _EPOCH_WEEKDAY) % 7) * MINUTES_PER_DAY + minute)
            key = None
            if not straddled:
                key = (tuple(slots), tuple(day_numbers[z] for z in self.date_zones))
                if key in self.memo:
                    found = self.memo[key]
                    results.append(None if found is None else (start, *found))
                    continue
            costs = [table[slots[zone]] for table, zone in self.lookups]
            if None in costs:
                self._fill(slots)
                costs = [table[slots[zone]] for table, zone in self.lookups]
            nights = 0
            for bit, table, zone in self.night_lookups:
                if table[slots[zone]]:
                    nights |= bit
            for index, zone in enumerate(self.group_zone):
                if zone in straddled:
                    cost, night = self._exact(self.groups[index].profile, start, zone)
                    costs[index] = cost
                    nights = nights | (1 << index) if night else nights & ~(1 << index)
            unavailable_members = 0
            for index in self.checks_date:
                local_day = date.fromordinal(_EPOCH_ORDINAL + day_numbers[self.group_zone[index]])
                penalty, unavailable = _date_penalty(self.groups[index], local_day, self.penalties)
                costs[index] += penalty
                unavailable_members += self.sizes[index] if unavailable else 0
            found = None if unavailable_members == self.everyone else (tuple(costs), nights)
            if key is not None:
                self.memo[key] = found
            results.append(None if found is None else (start, *found))
        return results

    def _exact(self, profile: CostProfile, start: datetime, zone: int) -> tuple[float, bool]:
        """Block by block, for a meeting during which the zone changes its UTC offset."""
        blocks = []
        for offset, length in split_blocks(self.duration):
            local = (start + timedelta(minutes=offset)).astimezone(self.zone_infos[zone])
            blocks.append((local.weekday(), local.hour * 60 + local.minute, length))
        return cost_of_blocks(profile, blocks)


class OptionBuilder:
    """Builds the options of successive months for one set of groups, sharing the work."""

    def __init__(self, groups: Sequence[Group], rules: Rules, penalties: Penalties) -> None:
        self.groups = groups
        self.rules = rules
        self.coster = _DayTypeCoster(groups, rules.duration_minutes, penalties)
        self.sizes = [group.size for group in groups]

    def month_options(self, month: YearMonth) -> list[Option]:
        """Distinct options of a month, earliest start first; NoSlotError if there are none."""
        days = candidate_days(self.rules, month)
        if not days:
            raise NoSlotError(str(month), "the club's rules allow no meeting day in this month")
        coster = self.coster
        first_of_type: dict[tuple, tuple[CandidateDay, list[int | None]]] = {}
        for day in days:
            offsets = coster.offsets(day)
            # Every day of a type gives the same vectors, so its first day stands for all.
            first_of_type.setdefault(coster.day_key(day, offsets), (day, offsets))
        earliest: dict[tuple[tuple[float, ...], int], datetime] = {}
        for day, offsets in first_of_type.values():
            for found in coster.vectors(day, offsets):
                if found is None:
                    continue
                start, costs, nights = found
                key = (costs, nights)
                if key not in earliest or start < earliest[key]:
                    earliest[key] = start
        if not earliest:
            raise NoSlotError(str(month), "every member is unavailable at every allowed slot")
        options = [
            Option(start, costs, nights, sum(map(mul, costs, self.sizes)))
            for (costs, nights), start in earliest.items()
        ]
        options.sort(key=lambda option: option.start_utc)
        return options

    def equivalent_starts(self, month: YearMonth, option: Option) -> list[datetime]:
        """Every start of the month that costs each group exactly what `option` does (the
        same hour on another day, say), earliest first; `option` collapsed them into one."""
        key = (option.costs, option.nights)
        coster = self.coster
        found: list[datetime] = []
        for day in candidate_days(self.rules, month):
            for vector in coster.vectors(day, coster.offsets(day)):
                if vector is not None and (vector[1], vector[2]) == key:
                    found.append(vector[0])
        return sorted(found)


def month_options(
    groups: Sequence[Group], rules: Rules, month: YearMonth, penalties: Penalties
) -> list[Option]:
    """Distinct options of one month (see OptionBuilder for several months)."""
    return OptionBuilder(groups, rules, penalties).month_options(month)
