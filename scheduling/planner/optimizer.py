"""The two-pass whole-horizon optimisation, and the best plans that start differently.

Pass 1 (fairness) estimates B*, the least maximum burden. The budget is then
    min(B* + fairness_slack, max(burden_cap_per_meeting x window months, B*)),
and pass 2 minimises the mean burden with nobody above it. Night rules rank first in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduling.planner.local_search import Energy, Objective, SearchEffort, local_search
from scheduling.planner.plan_state import PlanState
from scheduling.planner.problem import PlannerSettings, SearchProblem
from scheduling.planner.relaxation import PRICED_GROUPS, kernel_from, relax

# Effort knobs. All fixed counts (never clock time), so results are deterministic.
_RELAX_ITERATIONS = 40  # subgradient steps per relaxation, fewer on big problems ...
_MIN_RELAX_ITERATIONS = 12
_RELAX_WORK = 250_000  # ... so that steps x options x priced groups stays about this
_ACTIVE_GROWTH_STEPS = 3  # re-searches when an untracked group turns out to bind
_NIGHT = 16.0  # cost of a night-time meeting: groups within two of these of a limit are tracked
_FAIRNESS_ROUNDS = 2  # relaxation + local search rounds per pass
_BUDGET_ROUNDS = 4
_RUNNER_UP_CANDIDATES = 4  # alternative first months whose plans get re-optimised
# Runners-up are real alternatives: a start at least this far from every option already
# listed (the best slot moved by 30 minutes tells an organiser nothing new). Options this
# close are only used when the month has no others.
RUNNER_UP_MIN_GAP = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Solution:
    plan: list[int]
    energy: Energy
    least_max_burden: float  # B*, as found by the fairness pass
    budget: float
    objective: Objective
    kernel: list[list[int]]
    problem: SearchProblem  # the problem as last searched (its active groups)


def greedy_plan(problem: SearchProblem) -> list[int]:
    """Month by month: no back-to-back night if avoidable, least maximum cumulative burden,
    then least sum of squared burdens (the benchmark's rotating reference policy)."""
    burden = list(problem.prior)
    previous = problem.last_night_mask
    sizes = [problem.sizes[g] for g in problem.active]
    plan = []
    for m, costs in enumerate(problem.costs):
        best_key, best_option = None, 0
        for o, option_costs in enumerate(costs):
            after = [b + c for b, c in zip(burden, option_costs, strict=True)]
            clash = 1 if problem.nights[m][o] & previous else 0
            squares = sum(n * b * b for n, b in zip(sizes, after, strict=True))
            key = (clash, round(max(after), 6), round(squares, 6), o)
            if best_key is None or key < best_key:
                best_key, best_option = key, o
        burden = [b + c for b, c in zip(burden, costs[best_option], strict=True)]
        previous = problem.nights[m][best_option]
        plan.append(best_option)
    return plan


def _effort(problem: SearchProblem, settings: PlannerSettings, share: float) -> SearchEffort:
    # Each evaluated move costs about one pass over the tracked groups, so big rosters get
    # fewer moves: the time stays bounded and the result stays deterministic.
    moves = int(share * settings.search_budget / max(problem.burden_count, 1))
    return SearchEffort(max(500, moves))


def _best_of(
    problem: SearchProblem,
    starts: Sequence[Sequence[int]],
    kernel: list[list[int]],
    objective: Objective,
    effort: SearchEffort,
) -> tuple[Energy, list[int]]:
    best: tuple[Energy, list[int]] | None = None
    seen = set()
    for start in starts:
        if tuple(start) in seen:
            continue
        seen.add(tuple(start))
        state = PlanState(problem, start)
        energy = local_search(state, kernel, objective, effort)
        if best is None or energy < best[0]:
            best = (energy, list(state.plan))
    assert best is not None
    return best


def _relax_iterations(problem: SearchProblem) -> int:
    """Fewer subgradient steps on big problems: each step costs months x options x prices."""
    options = sum(len(costs) for costs in problem.costs)
    per_step = options * min(problem.burden_count, PRICED_GROUPS)
    return max(_MIN_RELAX_ITERATIONS, min(_RELAX_ITERATIONS, _RELAX_WORK // max(per_step, 1)))


def budget_for(least_max: float, problem: SearchProblem, settings: PlannerSettings) -> float:
    cap = settings.burden_cap_per_meeting * problem.window_months
    return min(least_max + settings.fairness_slack, max(cap, least_max))


def solve(
    problem: SearchProblem, settings: PlannerSettings, warm_plans: Sequence[Sequence[int]] = ()
) -> Solution:
    greedy = greedy_plan(problem)
    fairness = Objective(None)
    _, fair_plan, _, _ = _active_pass(
        problem, fairness, [greedy, *warm_plans], settings, _FAIRNESS_ROUNDS, 0.4
    )
    least_max = round(max(problem.full_burden(fair_plan)), 6)
    budget = budget_for(least_max, problem, settings)
    objective = Objective(budget)
    energy, plan, kernel, searched = _active_pass(
        problem, objective, [fair_plan, *warm_plans], settings, _BUDGET_ROUNDS, 0.6
    )
    return Solution(plan, energy, least_max, budget, objective, kernel, searched)


def _near_top(problem: SearchProblem, plans: Sequence[Sequence[int]], limit: float | None) -> set:
    """Groups within two nights of the limit (or of the plan's maximum) in any given plan."""
    near = set()
    for plan in plans:
        burden = problem.full_burden(plan)
        line = (limit if limit is not None else max(burden)) - 2 * _NIGHT
        near.update(g for g, b in enumerate(burden) if b >= line)
    return near


def _active_pass(
    problem: SearchProblem,
    objective: Objective,
    starts: Sequence[Sequence[int]],
    settings: PlannerSettings,
    rounds: int,
    share: float,
) -> tuple[Energy, list[int], list[list[int]], SearchProblem]:
    """Search tracking the burdens of the groups that can bind only; when the result puts
    an untracked group above the limit (or above the maximum), track it too and search again."""
    active = _near_top(problem, starts, objective.budget)
    starts = list(starts)
    effort = _effort(problem.with_active(active), settings, share)
    for step in range(_ACTIVE_GROWTH_STEPS):
        if step == _ACTIVE_GROWTH_STEPS - 1:
            active = set(range(problem.group_count))  # last try: track everyone
        searched = problem.with_active(active)
        energy, plan, kernel = _lagrangian_rounds(
            searched, objective, starts, settings, rounds, effort
        )
        burden = problem.full_burden(plan)
        limit = objective.budget
        if limit is None:
            limit = max(burden[g] for g in searched.active)
        missing = [g for g, b in enumerate(burden) if b > limit + 1e-6 and g not in active]
        if not missing or len(active) == problem.group_count:
            break
        active |= set(missing) | _near_top(problem, [plan], objective.budget)
        starts = [plan, *starts]
    return energy, plan, kernel, searched


def _lagrangian_rounds(
    problem: SearchProblem,
    objective: Objective,
    starts: Sequence[Sequence[int]],
    settings: PlannerSettings,
    rounds: int,
    effort: SearchEffort,
) -> tuple[Energy, list[int], list[list[int]]]:
    """Alternate relaxation and local search: each round prices options against the best
    plan so far, searches the resulting kernel, and continues from the improved plan."""
    fairness = objective.budget is None
    best_energy, best_plan, kernel = None, list(starts[0]), []
    candidates = [list(start) for start in starts]
    relaxation = None
    for _ in range(rounds):
        known = PlanState(problem, best_plan if best_energy is not None else candidates[0])
        upper = max(known.burden) if fairness else known.total
        iterations = _relax_iterations(problem)
        relaxation = relax(problem, objective.budget, iterations, upper, relaxation)
        kernel = kernel_from(problem, relaxation, settings.kernel_size, candidates)
        round_starts = [*candidates, relaxation.plans[-1]]
        energy, plan = _best_of(problem, round_starts, kernel, objective, effort)
        if best_energy is not None and energy >= best_energy:
            break
        best_energy, best_plan = energy, plan
        candidates = [plan]
    assert best_energy is not None
    return best_energy, best_plan, kernel


def ranked_first_months(
    problem: SearchProblem, solution: Solution, settings: PlannerSettings, count: int = 3
) -> list[tuple[Energy, list[int]]]:
    """The best plans with different options for the first month, best first: the solution
    and its runners-up. Every other first-month option is scored with the rest of the plan
    kept; the most promising few get the rest of their plan re-optimised, and one of them
    may even beat the solution (then it leads the list)."""
    base = solution.plan
    scored = []
    for option in range(len(problem.costs[0])):
        if option == base[0]:
            continue
        trial = PlanState(problem, [option, *base[1:]])
        energy = solution.objective.energy(
            trial.violation, trial.burden, trial.total, trial.index_sum
        )
        scored.append((energy, option))
    scored.sort()
    results = [(solution.energy, list(base))]
    effort = _effort(problem, settings, 0.15)
    wanted = max(count - 1, _RUNNER_UP_CANDIDATES)
    for _, option in _distinct_first(problem, base[0], scored, wanted):
        kernel = [[option], *solution.kernel[1:]]
        trial = PlanState(problem, [option, *base[1:]])
        energy = local_search(trial, kernel, solution.objective, effort)
        results.append((energy, list(trial.plan)))
    results.sort()
    return _spread(problem, results, count)


def _start(problem: SearchProblem, option: int) -> datetime:
    return problem.options[0][option].start_utc


def _far_from(problem: SearchProblem, option: int, taken: list[int]) -> bool:
    start = _start(problem, option)
    return all(abs(start - _start(problem, other)) >= RUNNER_UP_MIN_GAP for other in taken)


def _distinct_first(
    problem: SearchProblem, chosen: int, scored: list[tuple[Energy, int]], wanted: int
) -> list[tuple[Energy, int]]:
    """The most promising alternatives that are not near-copies of one another."""
    picked: list[tuple[Energy, int]] = []
    taken = [chosen]
    for item in scored:
        if len(picked) == wanted:
            return picked
        if _far_from(problem, item[1], taken):
            picked.append(item)
            taken.append(item[1])
    # A month with few distinct starts: fill up with the nearest ones, best first.
    rest = [item for item in scored if item not in picked]
    return picked + rest[: wanted - len(picked)]


def _spread(
    problem: SearchProblem, results: list[tuple[Energy, list[int]]], count: int
) -> list[tuple[Energy, list[int]]]:
    """The best plan first, then the best ones whose first month is a distinct start."""
    kept = [results[0]]
    for item in results[1:]:
        if len(kept) < count and _far_from(problem, item[1][0], [k[1][0] for k in kept]):
            kept.append(item)
    for item in results[1:]:
        if len(kept) < count and item not in kept:
            kept.append(item)
    return kept
