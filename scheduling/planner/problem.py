"""Turn groups, their burden history and the months' options into a compact search problem.

The search sees "effective groups": groups that feel every option of the horizon identically
are merged, and a group that can never be worse off than another (costs, nights and history
all no higher) is left out of the fairness constraints, since the other one binds first.
Options that another option of the same month beats on every count are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import add, itemgetter

from scheduling.planner.ledger import MemberBurden
from scheduling.planner.months import YearMonth
from scheduling.planner.options import Option, Penalties
from scheduling.planner.roster import Group, MemberKey

_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    """How the planner trades fairness against the club's total burden.

    The planner finds the least maximum burden it can (B*). It then accepts a plan whose
    most burdened member carries up to `fairness_slack` more (a third of a night by default)
    when that lowers the average burden, but no more than `burden_cap_per_meeting` per meeting
    in the window unless B* itself is higher. Nights: at most `night_cap` per member per
    calendar year, and never in two consecutive months where any alternative exists.
    """

    night_cap: int = 3
    fairness_slack: float = 5.0
    burden_cap_per_meeting: float = 5.0
    memory_months: int | None = 12
    penalties: Penalties = field(default_factory=Penalties)
    kernel_size: int = 12
    search_budget: int = 1_200_000  # group-cost additions per plan; bounds time on big rosters


@dataclass(frozen=True, slots=True)
class GroupHistory:
    """What the ledger says about a group, summarised so that constraints stay exact."""

    worst_cost: float  # highest cumulative cost of any member in the memory window
    total_cost: float  # summed over members
    nights_this_year: int  # most nights of any member this calendar year
    night_last_month: bool  # some member had a night last month
    past_meetings: int  # most meetings any member has in the memory window


def group_histories(
    groups: Sequence[Group],
    ledger: Mapping[MemberKey, MemberBurden],
    month: YearMonth,
    memory_months: int | None,
) -> list[GroupHistory]:
    """Per group: the worst and total window cost, the most nights this calendar year, and
    whether anyone had a night last month. One pass over each member's entries."""
    current = month.year * 12 + month.month - 1
    first = current - memory_months if memory_months is not None else -1
    year_start = month.year * 12
    previous = current - 1
    histories = []
    for group in groups:
        worst = total = 0.0
        nights = 0
        night_last = False
        past = 0
        for key in group.members:
            burden = ledger.get(key)
            if burden is None:
                continue
            cost = 0.0
            member_nights = meetings = 0
            for entry in burden.entries:
                index = entry.month_index
                if index >= current:
                    continue
                if entry.night and index >= year_start:  # nights count by calendar year
                    member_nights += 1
                    night_last = night_last or index == previous
                if index >= first:  # costs count within the memory window
                    cost += entry.cost
                    meetings += 1
            worst = max(worst, cost)
            total += cost
            nights = max(nights, member_nights)
            past = max(past, meetings)
        histories.append(GroupHistory(worst, total, nights, night_last, past))
    return histories


@dataclass(slots=True)
class SearchProblem:
    """Plain lists for the search loops; index m is a month of the horizon, o an option.

    Night data cover every effective group. Burden data (`costs`, `prior`) cover only the
    `active` groups: the search tracks burdens of the groups that can bind, and the
    optimiser adds any group that turns out to bind (see optimizer.solve).
    """

    months: list[YearMonth]
    options: list[list[Option]]  # the real options behind each row
    full_costs: list[list[tuple[float, ...]]]  # per effective group
    nights: list[list[int]]  # bit per effective group
    totals: list[list[float]]  # mean cost per member of the whole club
    sizes: list[int]  # members per effective group
    full_prior: list[float]
    prior_nights: list[int]  # nights already in the calendar year of months[0]
    year_of_month: list[int]  # 0 for the year of months[0], 1 for the next, ...
    last_night_mask: int
    night_cap: int
    members: int
    window_months: int  # months the burden window spans (past meetings + horizon)
    prior_mean: float  # mean window burden per member before the horizon
    labels: list[int]  # an original group index standing for each effective group
    active: tuple[int, ...] = ()
    costs: list[list[tuple[float, ...]]] = field(default_factory=list)  # active groups only
    prior: list[float] = field(default_factory=list)
    _columns: list | None = None
    _weight_tables: list | None = None
    _night_options: list | None = None

    @property
    def group_count(self) -> int:
        return len(self.sizes)

    @property
    def burden_count(self) -> int:
        return len(self.prior)

    def with_active(self, active: Sequence[int]) -> SearchProblem:
        """The same problem tracking burdens of `active` groups only (sorted, no repeats)."""
        active = tuple(sorted(set(active)))
        pick = _picker(active)
        return replace(
            self,
            active=active,
            costs=[[pick(costs) for costs in month] for month in self.full_costs],
            prior=[self.full_prior[g] for g in active],
            _columns=None,
            _weight_tables=self._weight_tables,
            _night_options=self._night_options,
        )

    @property
    def night_options(self) -> list[list[list[int]]]:
        """[month][group] -> the options that give that group a night (built once)."""
        if self._night_options is None:
            table = []
            for masks in self.nights:
                per_group: list[list[int]] = [[] for _ in self.sizes]
                for o, mask in enumerate(masks):
                    while mask:
                        low = mask & -mask
                        per_group[low.bit_length() - 1].append(o)
                        mask ^= low
                table.append(per_group)
            self._night_options = table
        return self._night_options

    @property
    def weight_tables(self) -> list[list[int]]:
        """Members per 8-group chunk of a night mask: table[chunk][byte] (built once)."""
        if self._weight_tables is None:
            tables = []
            for chunk in range(0, len(self.sizes), 8):
                sizes = self.sizes[chunk : chunk + 8]
                table = [0] * 256
                for byte in range(1, 256):
                    low = byte & -byte
                    table[byte] = (
                        table[byte ^ low] + sizes[low.bit_length() - 1]
                        if (low.bit_length() <= len(sizes))
                        else table[byte ^ low]
                    )
                tables.append(table)
            self._weight_tables = tables or [[0] * 256]
        return self._weight_tables

    def full_burden(self, plan: Sequence[int]) -> list[float]:
        burden = list(self.full_prior)
        for m, o in enumerate(plan):
            burden = list(map(add, burden, self.full_costs[m][o]))
        return burden

    @property
    def columns(self) -> list[list[list[float]]]:
        """costs transposed: [month][group][option], built once (the relaxation reads it)."""
        if self._columns is None:
            self._columns = [
                [list(column) for column in zip(*costs, strict=True)] if costs else []
                for costs in self.costs
            ]
        return self._columns


def _picker(indexes: Sequence[int]) -> Callable[[tuple], tuple]:
    """A fast function taking those positions of a tuple (always returning a tuple)."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda values: (values[only],)
    return itemgetter(*indexes)


def _group_columns(
    month_options: Sequence[Sequence[Option]], group_count: int
) -> tuple[list[tuple[float, ...]], list[int]]:
    """Each group's costs over every option of the horizon, and its nights as a bitset
    (bit k: night at the k-th option)."""
    flat = [option for options in month_options for option in options]
    costs = list(zip(*(option.costs for option in flat), strict=True))
    # Transpose the night masks as strings of '0'/'1' so that the work stays in C.
    width = f"0{group_count}b"
    rows = [format(option.nights, width)[::-1] for option in flat]
    nights = [int("".join(column)[::-1], 2) for column in zip(*rows, strict=True)]
    return costs, nights


def _never_worse(
    column: tuple[float, ...],
    nights: int,
    summary: tuple,
    other: tuple[float, ...],
    other_nights: int,
    other_summary: tuple,
) -> bool:
    """Whether a group is never worse off than another: costs, nights and history."""
    worst, night_count, last = summary
    other_worst, other_count, other_last = other_summary
    if worst > other_worst + _EPSILON or night_count > other_count or (last and not other_last):
        return False
    if nights & ~other_nights:
        return False
    return all(a <= b + _EPSILON for a, b in zip(column, other, strict=True))


def build_problem(
    groups: Sequence[Group],
    histories: Sequence[GroupHistory],
    months: Sequence[YearMonth],
    month_options: Sequence[Sequence[Option]],
    settings: PlannerSettings,
) -> SearchProblem:
    sizes = [group.size for group in groups]
    columns, night_sets = _group_columns(month_options, len(groups))
    # Merge groups that feel every option identically.
    merged_by_key: dict[tuple, list[int]] = {}
    for index in range(len(groups)):
        merged_by_key.setdefault((columns[index], night_sets[index]), []).append(index)
    merged = list(merged_by_key.values())
    summaries = [
        (
            max(histories[i].worst_cost for i in members),
            max(histories[i].nights_this_year for i in members),
            any(histories[i].night_last_month for i in members),
        )
        for members in merged
    ]
    sums = [sum(columns[members[0]]) for members in merged]
    # Keep only groups that no other group dominates: a group can only be dominated by one
    # whose costs add up to at least as much.
    order = sorted(range(len(merged)), key=lambda k: (sums[k], merged[k][0]))
    kept: list[int] = []
    for position, k in enumerate(order):
        column, nights = columns[merged[k][0]], night_sets[merged[k][0]]
        beaten = any(
            _never_worse(
                column,
                nights,
                summaries[k],
                columns[merged[other][0]],
                night_sets[merged[other][0]],
                summaries[other],
            )
            for other in order[position + 1 :]
        )
        if not beaten:
            kept.append(k)
    kept.sort(key=lambda k: merged[k][0])
    effective_of: dict[int, int] = {}
    for new_index, k in enumerate(kept):
        for original in merged[k]:
            effective_of[original] = new_index
    representatives = [merged[k][0] for k in kept]
    pick = _picker(representatives)
    members = sum(sizes)
    problem_options, problem_costs, problem_nights, problem_totals = [], [], [], []
    for options in month_options:
        rows = []
        for option in options:
            mask = 0
            bits = option.nights
            while bits:
                low = bits & -bits
                target = effective_of.get(low.bit_length() - 1)
                if target is not None:
                    mask |= 1 << target
                bits ^= low
            costs = pick(option.costs)
            rows.append((option, costs, mask, option.total / members))
        rows = _pareto(rows)
        problem_options.append([row[0] for row in rows])
        problem_costs.append([row[1] for row in rows])
        problem_nights.append([row[2] for row in rows])
        problem_totals.append([row[3] for row in rows])
    last_mask = 0
    for new_index, k in enumerate(kept):
        if summaries[k][2]:
            last_mask |= 1 << new_index
    problem = SearchProblem(
        months=list(months),
        options=problem_options,
        full_costs=problem_costs,
        nights=problem_nights,
        totals=problem_totals,
        sizes=[sum(sizes[i] for i in merged[k]) for k in kept],
        full_prior=[summaries[k][0] for k in kept],
        prior_nights=[summaries[k][1] for k in kept],
        year_of_month=[month.year - months[0].year for month in months],
        last_night_mask=last_mask,
        night_cap=settings.night_cap,
        members=members,
        window_months=max((h.past_meetings for h in histories), default=0) + len(months),
        prior_mean=sum(h.total_cost for h in histories) / members,
        labels=representatives,
    )
    return problem.with_active(range(len(kept)))


def _pareto(rows: list[tuple[Option, tuple[float, ...], int, float]]) -> list:
    """Drop options another option beats or equals on every group, on nights and in total."""
    by_total = sorted(rows, key=lambda row: (row[3], row[0].start_utc))
    kept: list = []
    for row in by_total:
        _, costs, mask, total = row
        beaten = False
        for other in kept:
            _, other_costs, other_mask, other_total = other
            if other_total > total + _EPSILON or other_mask & ~mask:
                continue
            if all(a <= b + _EPSILON for a, b in zip(other_costs, costs, strict=True)):
                beaten = True
                break
        if not beaten:
            kept.append(row)
    kept.sort(key=lambda row: row[0].start_utc)
    return kept
