"""Local search over plans: move one month, or the best pair of months, while it helps.

Energies are tuples compared lexicographically (lower is better); both objectives start
with the night-rule violations, so avoiding those always comes first. Moves are scored
from per-month tables of burden and violation changes, so most cost a few list additions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import add, sub

from scheduling.planner.plan_state import PlanState, index_weight

INF = float("inf")
_ROUND = 6  # decimals kept when comparing sums of costs (thirds do not add up exactly)


# An energy is a tuple compared lexicographically; lower is better. Both start with the
# night-rule violations, so avoiding those always comes first.
Energy = tuple


@dataclass(frozen=True, slots=True)
class Objective:
    """Budget pass: (violations, burden above budget, mean, index sum).
    Fairness pass (budget None): (violations, maximum, crowding near the maximum, mean, index
    sum); "crowding" sums how far members are within one night of the maximum, which gives
    the search a slope towards lowering a maximum that several groups share."""

    budget: float | None = None

    def energy(
        self,
        violation: int,
        burden: Sequence[float],
        total: float,
        index: int,
        highest: float | None = None,
    ) -> Energy:
        top = max(burden) if highest is None else highest
        if self.budget is None:
            floor = top - _NIGHT
            crowd = sum(b - floor for b in burden if b > floor)
            return (
                violation,
                round(top, _ROUND),
                round(crowd, _ROUND),
                round(total, _ROUND),
                index,
            )
        budget = self.budget
        over = sum(b - budget for b in burden if b > budget) if top > budget else 0.0
        return (violation, round(over, _ROUND), round(total, _ROUND), index)


_NIGHT = 16.0


@dataclass(slots=True)
class SearchEffort:
    """Counts evaluated moves, so that searches stop at a fixed, deterministic budget."""

    limit: int
    spent: int = 0

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit


class _MoveTables:
    """For each month and kernel option: the burden change and the night-rule changes of
    moving that month alone, relative to the current plan. Refreshed after every move."""

    def __init__(self, state: PlanState, kernel: Sequence[Sequence[int]]) -> None:
        self.state = state
        self.kernel = kernel
        self.refresh()

    def refresh(self) -> None:
        state = self.state
        problem = state.problem
        self.diffs: list[dict[int, list[float]]] = []
        self.back_to_back: list[dict[int, int]] = []
        self.excess: list[dict[int, int]] = []
        for month, options in enumerate(self.kernel):
            current = problem.costs[month][state.plan[month]]
            self.diffs.append(
                {o: list(map(sub, problem.costs[month][o], current)) for o in options}
            )
            deltas = {o: state.single_deltas(month, o) for o in options}
            self.back_to_back.append({o: d[0] for o, d in deltas.items()})
            self.excess.append({o: d[1] for o, d in deltas.items()})

    def single_violation(self, month: int, option: int) -> int:
        return self.state.violation + self.back_to_back[month][option] + self.excess[month][option]

    def pair_violation(self, first: int, a: int, second: int, b: int) -> int:
        state = self.state
        problem = state.problem
        new_a, new_b = problem.nights[first][a], problem.nights[second][b]
        old_a, old_b = state.masks[first], state.masks[second]
        if new_a == old_a:
            return self.single_violation(second, b)
        if new_b == old_b:
            return self.single_violation(first, a)
        if second - first > 1:
            delta = self.back_to_back[first][a] + self.back_to_back[second][b]
        else:  # adjacent months: the pair between them uses both new masks
            weight = state.weight
            before, after = state.mask_before(first), state.mask_after(second)
            delta = (
                weight(before & new_a)
                + weight(new_a & new_b)
                + weight(new_b & after)
                - weight(before & old_a)
                - weight(old_a & old_b)
                - weight(old_b & after)
            )
        year = problem.year_of_month[first]
        changed_a, changed_b = new_a ^ old_a, new_b ^ old_b
        if year != problem.year_of_month[second] or not changed_a & changed_b:
            return state.violation + delta + self.excess[first][a] + self.excess[second][b]
        # Both months change the same groups' night counts in one year: sort the groups by
        # their net change (-2..+2) and price each class with the count bitsets.
        weight = state.weight
        added_a, removed_a = new_a & ~old_a, old_a & ~new_a
        added_b, removed_b = new_b & ~old_b, old_b & ~new_b
        plus_two, minus_two = added_a & added_b, removed_a & removed_b
        plus_one = (added_a & ~changed_b) | (added_b & ~changed_a)
        minus_one = (removed_a & ~changed_b) | (removed_b & ~changed_a)
        at, above = state.at_cap[year], state.above_cap[year]
        delta += (
            weight(plus_one & at)
            - weight(minus_one & above)
            + 2 * weight(plus_two & at)
            + weight(plus_two & state.below_cap[year])
            - weight(minus_two & above)
            - weight(minus_two & state.far_above_cap[year])
        )
        return state.violation + delta


def local_search(
    state: PlanState,
    kernel: Sequence[Sequence[int]],
    objective: Objective,
    effort: SearchEffort,
) -> Energy:
    """Improve by single-month moves, then by the best move of each pair of months, until
    neither helps (or the effort budget is spent)."""
    tables = _MoveTables(state, kernel)
    current = objective.energy(state.violation, state.burden, state.total, state.index_sum)
    months = len(state.plan)
    while not effort.exhausted:
        moved = False
        for month in range(months):
            best = _best_single(state, tables, objective, month, current)
            effort.spent += len(kernel[month])
            if best is not None:
                current, changes = best
                state.apply(changes)
                tables.refresh()
                moved = True
        if moved:
            continue
        for first in range(months):
            for second in range(first + 1, months):
                if effort.exhausted:
                    return current
                best = _best_pair(state, tables, objective, first, second, current, effort)
                if best is not None:
                    current, changes = best
                    state.apply(changes)
                    tables.refresh()
                    moved = True
        if not moved:
            break
    return current


def _best_single(
    state: PlanState, tables: _MoveTables, objective: Objective, month: int, current: Energy
) -> tuple[Energy, list[tuple[int, int]]] | None:
    problem = state.problem
    best = None
    for option in tables.kernel[month]:
        if option == state.plan[month]:
            continue
        burden = list(map(add, state.burden, tables.diffs[month][option]))
        energy = objective.energy(
            tables.single_violation(month, option),
            burden,
            state.total + problem.totals[month][option] - problem.totals[month][state.plan[month]],
            state.index_sum + (option - state.plan[month]) * index_weight(month),
        )
        if energy < current and (best is None or energy < best[0]):
            best = (energy, [(month, option)])
    return best


def _best_pair(
    state: PlanState,
    tables: _MoveTables,
    objective: Objective,
    first: int,
    second: int,
    current: Energy,
    effort: SearchEffort,
) -> tuple[Energy, list[tuple[int, int]]] | None:
    problem = state.problem
    kernel_first, kernel_second = tables.kernel[first], tables.kernel[second]
    totals_first, totals_second = problem.totals[first], problem.totals[second]
    plan_first, plan_second = state.plan[first], state.plan[second]
    base_total = state.total - totals_first[plan_first] - totals_second[plan_second]
    weight_first, weight_second = index_weight(first), index_weight(second)
    base_index = state.index_sum - plan_first * weight_first - plan_second * weight_second
    clean = current[0] == 0
    fairness = objective.budget is None
    # With nothing violated, a move must not raise the maximum (fairness pass); in the budget
    # pass with nothing above budget it must lower the mean, so the scan over options sorted
    # by their total stops early, and nobody may exceed the budget.
    top = current[1] if fairness else INF
    bounded = clean and not fairness and current[1] == 0
    limit = current[2] + 1e-9 if bounded else INF
    ceiling = (objective.budget + 1e-9) if bounded else INF
    cheapest_second = totals_second[kernel_second[0]] if kernel_second else 0.0
    # The groups at the maximum: in the fairness pass none of them may rise, checked first.
    tops = [g for g, b in enumerate(state.burden) if b > top - 1e-9] if clean else []
    diffs_first, diffs_second = tables.diffs[first], tables.diffs[second]
    best = None
    for a in kernel_first:
        if base_total + totals_first[a] + cheapest_second > limit:
            break
        base = list(map(add, state.burden, diffs_first[a]))
        for b in kernel_second:
            total = base_total + totals_first[a] + totals_second[b]
            if total > limit:
                break
            if a == plan_first and b == plan_second:
                continue
            effort.spent += 1
            diff = diffs_second[b]
            if tops and any(base[g] + diff[g] > top + 1e-9 for g in tops):
                continue
            burden = list(map(add, base, diff))
            highest = max(burden)
            if clean and (highest > top + 1e-9 or highest > ceiling):
                continue
            violation = tables.pair_violation(first, a, second, b)
            if violation > current[0] or (clean and violation):
                continue
            index = base_index + a * weight_first + b * weight_second
            energy = objective.energy(violation, burden, total, index, highest)
            if energy < current and (best is None or energy < best[0]):
                best = (energy, [(first, a), (second, b)])
    return best
