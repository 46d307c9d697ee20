"""What the planner returns: plain, immutable values the chat layer can read and store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from scheduling.planner.months import YearMonth


@dataclass(frozen=True, slots=True)
class LocalRow:
    """One line of the local-time table: a city (and zone) at a given start."""

    city: str
    zone: str
    local_start: datetime
    local_end: datetime
    members: int
    outside_hours: int  # members for whom the meeting is outside their hours
    night: int  # members for whom it touches 00:00-06:00 (outside their stated hours)
    unavailable: int  # members who said they cannot come then
    holiday: int  # members for whom it is a public holiday
    mean_cost: float  # this meeting's cost per member of the row


@dataclass(frozen=True, slots=True)
class SlotOption:
    """A candidate slot for the month being planned, with the plan built around it."""

    start_utc: datetime
    end_utc: datetime
    rows: tuple[LocalRow, ...]
    mean_cost: float  # this meeting, per member
    worst_cost: float  # this meeting, for the member it suits least
    night_members: int
    projected_max_burden: float  # window burden of the most burdened member, with this plan
    projected_mean_burden: float
    night_rule_breaks: int  # members whose night limits this plan breaks (0 when possible)
    tentative: tuple[datetime, ...] = field(repr=False)  # later months of this plan


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the choice beat the first runner-up, as a code plus parameters to translate."""

    # night_back_to_back | night_cap | later_back_to_back | later_night_cap | fairer | lighter
    # | earlier | only_option; see explain.render_reason for the English sentences.
    code: str
    params: Mapping[str, str | int | float]


@dataclass(frozen=True, slots=True)
class TentativeMonth:
    month: YearMonth
    start_utc: datetime
    end_utc: datetime


@dataclass(frozen=True, slots=True)
class MonthPlan:
    month: YearMonth
    choice: SlotOption
    runners_up: tuple[SlotOption, ...]
    reason: Reason
    tentative: tuple[TentativeMonth, ...]
    least_max_burden: float  # B*: the least maximum window burden the planner found
    budget: float  # the maximum window burden it then allowed, to lower the mean
    groups: int  # distinct (zone, hours, country, unavailability) groups
    members: int
