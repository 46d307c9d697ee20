"""Plan a month: the chosen slot, two runners-up, why, and tentative slots for later months.

The horizon (this month and the next `horizon_months - 1`) is planned as a whole from the
members' burden so far; only this month's slot is meant to be announced as final. Re-plan
every month with the updated ledger (and the roster as it is then): passing the previous
plan's tentative starts as `warm_start` keeps plans stable when nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from scheduling.planner.errors import NoSlotError, RosterError
from scheduling.planner.ledger import MemberBurden
from scheduling.planner.months import YearMonth
from scheduling.planner.optimizer import (
    RUNNER_UP_MIN_GAP,
    greedy_plan,
    ranked_first_months,
    solve,
)
from scheduling.planner.options import Option, OptionBuilder, Outcome, group_outcome
from scheduling.planner.plan_state import PlanState
from scheduling.planner.problem import (
    PlannerSettings,
    SearchProblem,
    build_problem,
    group_histories,
)
from scheduling.planner.reasons import explain_choice
from scheduling.planner.results import LocalRow, MonthPlan, Reason, SlotOption, TentativeMonth
from scheduling.planner.roster import Group, Member, MemberKey, group_members
from scheduling.planner.slots import Rules

RUNNERS_UP = 2  # organisers choose among three times


def plan_month(
    members: Sequence[Member],
    rules: Rules,
    month: str | YearMonth,
    ledger: Mapping[MemberKey, MemberBurden] | None = None,
    *,
    horizon_months: int = 12,
    settings: PlannerSettings | None = None,
    warm_start: Sequence[datetime] = (),
) -> MonthPlan:
    """Plan `month` (and tentatively the rest of the horizon) for `members` under `rules`.

    Raises RosterError for an empty roster and NoSlotError when this month offers no slot.
    Later months without any slot are left out of the horizon.
    """
    settings = settings or PlannerSettings()
    month = YearMonth.parse(month)
    if not members:
        raise RosterError(None, "the roster has no members")
    if horizon_months < 1:
        raise ValueError("horizon_months must be at least 1")
    groups = group_members(members)
    histories = group_histories(groups, ledger or {}, month, settings.memory_months)
    months, options = _horizon_options(groups, rules, month, horizon_months, settings)
    problem = build_problem(groups, histories, months, options, settings)
    warm = _warm_plan(problem, warm_start)
    solution = solve(problem, settings, [warm] if warm else [])
    ranked = ranked_first_months(solution.problem, solution, settings)
    solution = replace(solution, plan=ranked[0][1], energy=ranked[0][0])
    seconds = ranked[1:]
    duration = rules.duration_minutes
    chosen = _slot_option(problem, groups, solution.plan, duration, settings)
    others = tuple(_slot_option(problem, groups, plan, duration, settings) for _, plan in seconds)
    reason = explain_choice(problem, groups, histories, solution, seconds, duration, settings)
    if len(others) < RUNNERS_UP:
        # Few members: many starts cost the same and collapsed into one option. Organisers
        # still get a choice of days: the same costs at other times of the month.
        builder = OptionBuilder(groups, rules, settings.penalties)
        chosen_option = problem.options[0][solution.plan[0]]
        taken = [chosen.start_utc, *(o.start_utc for o in others)]
        starts = builder.equivalent_starts(month, chosen_option)
        # Other days first (a choice of dates), then other hours of the same days.
        for other_day_only in (True, False):
            for start in starts:
                if len(others) == RUNNERS_UP:
                    break
                days = {t.date() for t in taken}
                if other_day_only and start.date() in days:
                    continue
                if all(abs(start - t) >= RUNNER_UP_MIN_GAP for t in taken):
                    others += (_moved(chosen, start, groups, duration, settings),)
                    taken.append(start)
        if others and reason.code == "only_option":
            reason = Reason("earlier", {})
    tentative = tuple(
        TentativeMonth(m, start, start + timedelta(minutes=duration))
        for m, start in zip(months[1:], chosen.tentative, strict=True)
    )
    return MonthPlan(
        month=month,
        choice=chosen,
        runners_up=others,
        reason=reason,
        tentative=tentative,
        least_max_burden=solution.least_max_burden,
        budget=solution.budget,
        groups=len(groups),
        members=len(members),
    )


def _horizon_options(
    groups: Sequence[Group],
    rules: Rules,
    month: YearMonth,
    horizon_months: int,
    settings: PlannerSettings,
) -> tuple[list[YearMonth], list[list[Option]]]:
    months, options = [], []
    builder = OptionBuilder(groups, rules, settings.penalties)
    for offset in range(horizon_months):
        current = month.shifted(offset)
        try:
            found = builder.month_options(current)
        except NoSlotError:
            if offset == 0:
                raise
            continue  # a later month without a slot simply has no meeting
        months.append(current)
        options.append(found)
    return months, options


def _warm_plan(problem: SearchProblem, starts: Sequence[datetime]) -> list[int] | None:
    """The previous plan's starts as option indexes of this problem, the months it did not
    cover filled greedily; None if one of its starts is no longer an option."""
    plan = []
    for m, start in enumerate(starts[: len(problem.options)]):
        found = next((o for o, x in enumerate(problem.options[m]) if x.start_utc == start), None)
        if found is None:
            return None
        plan.append(found)
    if not plan:
        return None
    return plan + greedy_plan(problem)[len(plan) :]


def _rows(groups: Sequence[Group], outcomes: Sequence[Outcome]) -> tuple[LocalRow, ...]:
    table: dict[tuple[str, str], dict] = {}
    for group, outcome in zip(groups, outcomes, strict=True):
        for city, count in group.cities:
            row = table.setdefault(
                (city, group.zone),
                {
                    "start": outcome.local_start,
                    "end": outcome.local_end,
                    "members": 0,
                    "outside": 0,
                    "night": 0,
                    "unavailable": 0,
                    "holiday": 0,
                    "cost": 0.0,
                },
            )
            row["members"] += count
            row["outside"] += count * outcome.outside_hours
            row["night"] += count * outcome.night
            row["unavailable"] += count * outcome.unavailable
            row["holiday"] += count * outcome.holiday
            row["cost"] += count * outcome.cost
    rows = [
        LocalRow(
            city=city,
            zone=zone,
            local_start=data["start"],
            local_end=data["end"],
            members=data["members"],
            outside_hours=data["outside"],
            night=data["night"],
            unavailable=data["unavailable"],
            holiday=data["holiday"],
            mean_cost=data["cost"] / data["members"],
        )
        for (city, zone), data in table.items()
    ]
    # West to east by local clock offset, then by name: reads like a map.
    rows.sort(key=lambda row: (row.local_start.utcoffset(), row.city))
    return tuple(rows)


def _slot_option(
    problem: SearchProblem,
    groups: Sequence[Group],
    plan: Sequence[int],
    duration: int,
    settings: PlannerSettings,
) -> SlotOption:
    option = problem.options[0][plan[0]]
    outcomes = [group_outcome(g, option.start_utc, duration, settings.penalties) for g in groups]
    state = PlanState(problem, plan)
    full_burden = problem.full_burden(plan)
    members = problem.members
    return SlotOption(
        start_utc=option.start_utc,
        end_utc=option.start_utc + timedelta(minutes=duration),
        rows=_rows(groups, outcomes),
        mean_cost=sum(o.cost * g.size for o, g in zip(outcomes, groups, strict=True)) / members,
        worst_cost=max(o.cost for o in outcomes),
        night_members=sum(g.size for o, g in zip(outcomes, groups, strict=True) if o.night),
        projected_max_burden=round(max(full_burden), 2),
        projected_mean_burden=round(mean_burden(problem, state), 2),
        night_rule_breaks=state.violation,
        tentative=tuple(problem.options[m][o].start_utc for m, o in enumerate(plan) if m > 0),
    )


def _moved(
    option: SlotOption,
    start: datetime,
    groups: Sequence[Group],
    duration: int,
    settings: PlannerSettings,
) -> SlotOption:
    """The same option at another start that costs every group the same."""
    outcomes = [group_outcome(g, start, duration, settings.penalties) for g in groups]
    return replace(
        option,
        start_utc=start,
        end_utc=start + timedelta(minutes=duration),
        rows=_rows(groups, outcomes),
    )


def mean_burden(problem: SearchProblem, state: PlanState) -> float:
    # state.total is the horizon's mean cost per member; the past adds the ledger's mean.
    return state.total + problem.prior_mean


__all__ = ["LocalRow", "MonthPlan", "Reason", "SlotOption", "TentativeMonth", "plan_month"]
