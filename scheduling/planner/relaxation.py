"""Lagrangian relaxation that ranks each month's options, and the kernel it yields.

Burden limits (or the maximum burden) and yearly night caps are priced into each option;
back-to-back nights stay exact through a dynamic programme over months. The relaxation only
ranks options: the best few per month form the kernel that the local search explores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import add

from scheduling.planner.problem import SearchProblem

INF = float("inf")
PRICED_GROUPS = 16  # prices the relaxation applies per step (the highest ones)


def best_plan_by_dp(
    problem: SearchProblem, reduced: Sequence[Sequence[float]]
) -> tuple[list[int], float]:
    """Least total reduced cost over months with no back-to-back nights (if possible)."""
    nights = problem.nights
    months = len(reduced)
    first_mask = problem.last_night_mask
    values = [r if not nights[0][o] & first_mask else INF for o, r in enumerate(reduced[0])]
    if all(v == INF for v in values):
        values = list(reduced[0])
    pointers: list[list[int]] = []
    for m in range(1, months):
        order = sorted(range(len(values)), key=values.__getitem__)
        previous_nights = nights[m - 1]
        best_previous = order[0]
        best_mask = previous_nights[best_previous]
        new_values, back = [], []
        for option, cost in enumerate(reduced[m]):
            mask = nights[m][option]
            chosen = best_previous
            if best_mask & mask:  # the cheapest path clashes: take the cheapest that does not
                chosen = next((p for p in order if not previous_nights[p] & mask), best_previous)
            new_values.append(cost + values[chosen])
            back.append(chosen)
        values = new_values
        pointers.append(back)
    option = min(range(len(values)), key=values.__getitem__)
    value = values[option]
    plan = [option]
    for back in reversed(pointers):
        option = back[option]
        plan.append(option)
    plan.reverse()
    return plan, value


def _reduced_costs(
    problem: SearchProblem,
    burden_prices: Sequence[float],
    night_prices: Sequence[Sequence[float]],
    total_weight: float,
) -> list[list[float]]:
    # The relaxation only ranks options for the kernel (the local search then judges plans
    # exactly), so the few highest prices are enough; small ones hardly move the ranking.
    floor = max(burden_prices, default=0.0) * 1e-3
    priced = sorted(
        ((g, p) for g, p in enumerate(burden_prices) if p > floor), key=lambda item: -item[1]
    )[:PRICED_GROUPS]
    reduced = []
    for m, columns in enumerate(problem.columns):
        row = [total_weight * total for total in problem.totals[m]]
        for g, price in priced:
            row = [r + price * c for r, c in zip(row, columns[g], strict=True)]
        year_prices = night_prices[problem.year_of_month[m]]
        priced_nights = sorted(
            ((g, p) for g, p in enumerate(year_prices) if p > 0), key=lambda item: -item[1]
        )[:PRICED_GROUPS]
        night_options = problem.night_options[m]
        for g, price in priced_nights:
            for o in night_options[g]:
                row[o] += price
        reduced.append(row)
    return reduced


def _plan_burden_and_nights(problem: SearchProblem, plan: Sequence[int]) -> tuple[list, list]:
    burden = list(problem.prior)
    years = max(problem.year_of_month) + 1
    counts = [[0] * problem.group_count for _ in range(years)]
    counts[0] = list(problem.prior_nights)
    for m, o in enumerate(plan):
        burden = list(map(add, burden, problem.costs[m][o]))
        mask = problem.nights[m][o]
        year_counts = counts[problem.year_of_month[m]]
        while mask:
            low = mask & -mask
            year_counts[low.bit_length() - 1] += 1
            mask ^= low
    return burden, counts


@dataclass(slots=True)
class Relaxation:
    """Prices found by the relaxation (those of its best bound) and the plans it produced."""

    burden_prices: list[float]
    night_prices: list[list[float]]
    plans: list[list[int]]
    total_weight: float
    bound: float


def relax(
    problem: SearchProblem,
    budget: float | None,
    iterations: int,
    upper_bound: float,
    start: Relaxation | None = None,
) -> Relaxation:
    """Subgradient prices for the burden limits and the yearly night caps.

    With a budget, the relaxed problem is "least total cost + prices x (burden - budget)";
    without one (fairness pass) it is "least price-weighted burden" with prices summing to 1,
    whose best value bounds the maximum burden from below. `upper_bound` is the value of a
    known plan (mean burden, or maximum burden in the fairness pass), used to size the steps;
    `start` continues from earlier prices.
    """
    groups = problem.group_count
    tracked = problem.burden_count
    years = max(problem.year_of_month) + 1
    fairness = budget is None
    if start is not None and len(start.burden_prices) == tracked:
        burden_prices = list(start.burden_prices)
        night_prices = [list(row) for row in start.night_prices]
    else:
        burden_prices = [1.0 / tracked] * tracked if fairness else [0.0] * tracked
        night_prices = [[0.0] * groups for _ in range(years)]
    # In the fairness pass the club's total only breaks ties between equally fair options.
    total_weight = 1e-3 if fairness else 1.0
    limits = [0.0 if fairness else budget - p for p in problem.prior]
    night_limits = [
        [problem.night_cap - (problem.prior_nights[g] if y == 0 else 0) for g in range(groups)]
        for y in range(years)
    ]
    plans: list[list[int]] = []
    best = Relaxation(burden_prices, night_prices, plans, total_weight, -INF)
    scale = 1.0
    stalled = 0
    for _ in range(iterations):
        reduced = _reduced_costs(problem, burden_prices, night_prices, total_weight)
        plan, value = best_plan_by_dp(problem, reduced)
        plans.append(plan)
        burden, counts = _plan_burden_and_nights(problem, plan)
        if fairness:
            value += sum(p * prior for p, prior in zip(burden_prices, problem.prior, strict=True))
            gradient = burden
        else:
            value -= sum(p * limit for p, limit in zip(burden_prices, limits, strict=True))
            gradient = [b - budget for b in burden]
        value -= sum(
            p * limit
            for prices, limits_y in zip(night_prices, night_limits, strict=True)
            for p, limit in zip(prices, limits_y, strict=True)
        )
        if value > best.bound + 1e-9:
            best = Relaxation(burden_prices, night_prices, plans, total_weight, value)
            stalled = 0
        else:
            stalled += 1
            if stalled >= 5:
                scale, stalled = scale / 2, 0
        night_gradient = [
            [
                0.0 if p <= 0 and count < limit else count - limit
                for p, count, limit in zip(night_prices[y], counts[y], night_limits[y], strict=True)
            ]
            for y in range(years)
        ]
        norm = sum(s * s for row in night_gradient for s in row)
        if fairness:
            burden_prices = _toward_heaviest(burden_prices, gradient, scale)
        else:
            gradient = [
                0.0 if p <= 0 and s < 0 else s for p, s in zip(burden_prices, gradient, strict=True)
            ]
            norm += sum(s * s for s in gradient)
        if norm == 0:
            break
        # Polyak step towards the known plan's value, halved whenever the bound stalls.
        step = scale * max(upper_bound - value, 1e-3 * abs(upper_bound) + 1e-6) / norm
        if not fairness:
            burden_prices = [
                max(0.0, p + step * s) for p, s in zip(burden_prices, gradient, strict=True)
            ]
        night_prices = [
            [max(0.0, p + step * s) for p, s in zip(prices, row, strict=True)]
            for prices, row in zip(night_prices, night_gradient, strict=True)
        ]
    best.plans = plans
    return best


def _toward_heaviest(prices: list[float], burden: list[float], scale: float) -> list[float]:
    """Exponentiated-gradient step on the simplex: weight moves to the most burdened groups."""
    top = max(burden)
    spread = max(top - min(burden), 1.0)
    weights = [
        p * math.exp(2.0 * scale * (b - top) / spread) for p, b in zip(prices, burden, strict=True)
    ]
    norm = sum(weights)
    return [w / norm for w in weights]


def kernel_from(
    problem: SearchProblem, relaxation: Relaxation, size: int, extra_plans: Sequence[Sequence[int]]
) -> list[list[int]]:
    """Per month: the `size` options with the lowest reduced cost, plus every option used by
    the relaxation's last plans or the given plans; sorted by total (cheapest first)."""
    reduced = _reduced_costs(
        problem, relaxation.burden_prices, relaxation.night_prices, relaxation.total_weight
    )
    kernel = []
    recent = relaxation.plans[-max(1, len(relaxation.plans) // 4) :]
    for m, row in enumerate(reduced):
        chosen = set(sorted(range(len(row)), key=lambda o: (row[o], o))[:size])
        chosen.update(plan[m] for plan in recent)
        chosen.update(plan[m] for plan in extra_plans)
        kernel.append(sorted(chosen, key=lambda o: (problem.totals[m][o], o)))
    return kernel
