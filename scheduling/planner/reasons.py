"""Why the chosen slot beat the first runner-up, as a structured Reason (code + params).

The comparison follows the planner's own order: night rules first (back-to-back nights,
then the yearly cap), then the heaviest burden against the budget, then the mean burden,
then the earlier start. The parameters name the city that gains most, so a sentence such as
"New York had 3 nights this year; this slot gives them 09:00" can be built in any language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduling.planner.local_search import Energy
from scheduling.planner.optimizer import Solution
from scheduling.planner.options import Outcome, group_outcome
from scheduling.planner.plan_state import PlanState
from scheduling.planner.problem import GroupHistory, PlannerSettings, SearchProblem
from scheduling.planner.results import Reason
from scheduling.planner.roster import Group


@dataclass(frozen=True, slots=True)
class NightBreak:
    """A night rule a plan breaks for one group: back-to-back (two months) or the cap."""

    kind: str  # "back_to_back" | "cap"
    first_month: int  # index in the horizon (-1: the month before it)
    second_month: int  # for back_to_back
    year: int
    nights: int  # for cap: nights in that year under the plan


def night_breaks(
    problem: SearchProblem,
    plan: Sequence[int],
    group_index: int,
    history: GroupHistory,
    night_cap: int,
) -> list[NightBreak]:
    """Every night rule the plan breaks for one original group, earliest first."""
    bit = 1 << group_index
    nights = [bool(problem.options[m][o].nights & bit) for m, o in enumerate(plan)]
    breaks = []
    previous = history.night_last_month
    for m, night in enumerate(nights):
        if previous and night:
            year = problem.months[m].year
            breaks.append(NightBreak("back_to_back", m - 1, m, year, 0))
        previous = night
    counts: dict[int, int] = {problem.months[0].year: history.nights_this_year}
    for m, night in enumerate(nights):
        year = problem.months[m].year
        counts[year] = counts.get(year, 0) + night
        if night and counts[year] > night_cap:
            breaks.append(NightBreak("cap", m, m, year, counts[year]))
    return breaks


def _clock(outcome: Outcome) -> str:
    return outcome.local_start.strftime("%a %H:%M")


def explain_choice(
    problem: SearchProblem,
    groups: Sequence[Group],
    histories: Sequence[GroupHistory],
    solution: Solution,
    seconds: Sequence[tuple[Energy, list[int]]],
    duration: int,
    settings: PlannerSettings,
) -> Reason:
    if not seconds:
        return Reason("only_option", {})
    runner_energy, runner_plan = seconds[0]
    chosen = problem.options[0][solution.plan[0]].start_utc
    other = problem.options[0][runner_plan[0]].start_utc
    mine = [group_outcome(g, chosen, duration, settings.penalties) for g in groups]
    theirs = [group_outcome(g, other, duration, settings.penalties) for g in groups]

    def about(index: int) -> dict[str, str | int | float]:
        return {
            "city": groups[index].label(),
            "nights_this_year": histories[index].nights_this_year,
            "local_time": _clock(mine[index]),
            "runner_up_time": _clock(theirs[index]),
            # The same instants, for a chat layer that formats them in a member's language.
            "zone": groups[index].zone,
            "start_utc": chosen.isoformat(),
            "runner_up_start_utc": other.isoformat(),
        }

    energy = solution.energy
    if runner_energy[0] > energy[0]:
        found = _night_reason(problem, groups, histories, solution.plan, runner_plan, settings)
        if found is not None:
            code, index, extra = found
            return Reason(code, about(index) | extra)
    # The city the choice spares most at this meeting (ties: more nights so far, then order).
    relief = max(
        range(len(groups)),
        key=lambda i: (theirs[i].cost - mine[i].cost, histories[i].nights_this_year, -i),
    )
    params = about(relief)
    if runner_energy[1] > energy[1]:
        return Reason(
            "fairer",
            params
            | {
                "max_burden": round(max(problem.full_burden(solution.plan)), 1),
                "runner_up_max_burden": round(max(problem.full_burden(runner_plan)), 1),
                "budget": round(solution.budget, 1),
            },
        )
    if runner_energy[2] > energy[2]:
        mean = PlanState(problem, solution.plan).total + problem.prior_mean
        runner_mean = PlanState(problem, runner_plan).total + problem.prior_mean
        return Reason(
            "lighter",
            params
            | {"mean_burden": round(mean, 1), "runner_up_mean_burden": round(runner_mean, 1)},
        )
    return Reason("earlier", params)


def _night_reason(
    problem: SearchProblem,
    groups: Sequence[Group],
    histories: Sequence[GroupHistory],
    plan: Sequence[int],
    runner_plan: Sequence[int],
    settings: PlannerSettings,
) -> tuple[str, int, dict[str, str | int | float]] | None:
    """The first night rule the runner-up breaks and the choice does not, and for whom."""
    cap = settings.night_cap
    candidates = []
    for index, history in enumerate(histories):
        ours = night_breaks(problem, plan, index, history, cap)
        for broken in night_breaks(problem, runner_plan, index, history, cap):
            if broken not in ours:
                rank = (broken.kind != "back_to_back", broken.first_month, -groups[index].size)
                candidates.append((rank, index, broken))
                break
    if not candidates:
        return None
    _, index, broken = min(candidates, key=lambda item: (item[0], item[1]))
    now = broken.second_month == 0 if broken.kind == "back_to_back" else broken.first_month == 0
    if broken.kind == "back_to_back":
        first = problem.months[broken.first_month] if broken.first_month >= 0 else None
        extra: dict[str, str | int | float] = {
            "first_month": str(first) if first else str(problem.months[0].shifted(-1)),
            "second_month": str(problem.months[broken.second_month]),
        }
        return ("night_back_to_back" if now else "later_back_to_back", index, extra)
    extra = {"cap": cap, "year": broken.year, "runner_up_nights": broken.nights}
    return ("night_cap" if now else "later_night_cap", index, extra)
