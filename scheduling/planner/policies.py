"""Reference policies from the benchmark, for comparison with the planner.

Each returns one start (aware UTC) per month. Ties go to the earliest start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.planner.months import YearMonth
from scheduling.planner.options import Penalties, month_options
from scheduling.planner.roster import Group
from scheduling.planner.slots import Rules

SATURDAY = 5


def fixed_moscow_noon_second_saturday(months: Sequence[YearMonth]) -> list[datetime]:
    """12:00 Moscow time on the second Saturday (Moscow calendar) of every month."""
    moscow = ZoneInfo("Europe/Moscow")
    starts = []
    for month in months:
        day = month.first_day()
        day += timedelta(days=(SATURDAY - day.weekday()) % 7 + 7)
        local = datetime(day.year, day.month, day.day, 12, tzinfo=moscow)
        starts.append(local.astimezone(UTC))
    return starts


def least_total_cost(
    groups: Sequence[Group], rules: Rules, months: Sequence[YearMonth], penalties: Penalties
) -> list[datetime]:
    """Each month on its own: the slot with the least cost summed over members."""
    starts = []
    for month in months:
        options = month_options(groups, rules, month, penalties)
        best = min(options, key=lambda option: (option.total, option.start_utc))
        starts.append(best.start_utc)
    return starts


def least_worst_cost(
    groups: Sequence[Group], rules: Rules, months: Sequence[YearMonth], penalties: Penalties
) -> list[datetime]:
    """Each month on its own: the slot whose most burdened member pays least, then least total."""
    starts = []
    for month in months:
        options = month_options(groups, rules, month, penalties)
        best = min(options, key=lambda o: (max(o.costs), o.total, o.start_utc))
        starts.append(best.start_utc)
    return starts


def rotating_greedy(
    groups: Sequence[Group], rules: Rules, months: Sequence[YearMonth], penalties: Penalties
) -> list[datetime]:
    """With memory: each month the slot giving the least maximum cumulative cost; ties go to
    the least sum of squared cumulative costs over members (spreads the burden), then to the
    earliest start. These tie-breaks reproduce the benchmark's reference figures."""
    burdens = [0.0] * len(groups)
    sizes = [group.size for group in groups]
    starts = []
    for month in months:
        options = month_options(groups, rules, month, penalties)

        def rank(option, burdens=burdens):
            after = [b + c for b, c in zip(burdens, option.costs, strict=True)]
            squares = sum(n * b * b for n, b in zip(sizes, after, strict=True))
            return (round(max(after), 9), round(squares, 9), option.start_utc)

        best = min(options, key=rank)
        burdens = [b + c for b, c in zip(burdens, best.costs, strict=True)]
        starts.append(best.start_utc)
    return starts
