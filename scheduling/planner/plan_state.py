"""A plan under search: its burdens and night-rule violations, updated move by move.

Violations are counted in members: back-to-back nights (including with last month's
meeting) and nights above the yearly cap. Masks are bitsets over effective groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import add

from scheduling.planner.problem import SearchProblem

_FIRST_MONTH_WEIGHT = 100_000  # ties: the earliest option of the month being decided wins


def index_weight(month: int) -> int:
    """Weight of a month's option index in the tie-breaker (this month's counts most)."""
    return 1 + _FIRST_MONTH_WEIGHT if month == 0 else 1


class PlanState:
    """One plan with its running totals, updated move by move."""

    def __init__(self, problem: SearchProblem, plan: Sequence[int]) -> None:
        self.problem = problem
        self.plan = list(plan)
        self.burden = list(problem.prior)
        years = max(problem.year_of_month) + 1
        self.night_counts = [[0] * problem.group_count for _ in range(years)]
        self.night_counts[0] = list(problem.prior_nights)
        self.masks = [problem.nights[m][o] for m, o in enumerate(self.plan)]
        self.total = 0.0
        for m, o in enumerate(self.plan):
            self.burden = list(map(add, self.burden, problem.costs[m][o]))
            self._count_nights(m, self.masks[m], 1)
            self.total += problem.totals[m][o]
        self._weights: dict[int, int] = {}
        self.violation = self._full_violation()
        self._refresh_cap_masks()

    def _refresh_cap_masks(self) -> None:
        """Per year, bitsets of groups by nights so far relative to the cap: one below it,
        at or above it, above it, and two or more above it."""
        cap = self.problem.night_cap
        self.below_cap: list[int] = []
        self.at_cap: list[int] = []
        self.above_cap: list[int] = []
        self.far_above_cap: list[int] = []
        for counts in self.night_counts:
            below = at = above = far = 0
            for group, count in enumerate(counts):
                bit = 1 << group
                if count == cap - 1:
                    below |= bit
                elif count >= cap:
                    at |= bit
                    if count > cap:
                        above |= bit
                        if count > cap + 1:
                            far |= bit
            self.below_cap.append(below)
            self.at_cap.append(at)
            self.above_cap.append(above)
            self.far_above_cap.append(far)

    def mask_before(self, month: int) -> int:
        return self.masks[month - 1] if month > 0 else self.problem.last_night_mask

    def mask_after(self, month: int) -> int:
        return self.masks[month + 1] if month + 1 < len(self.masks) else 0

    def single_deltas(self, month: int, option: int) -> tuple[int, int]:
        """(back-to-back change, night-cap change) in members if only `month` changes."""
        new = self.problem.nights[month][option]
        old = self.masks[month]
        if new == old:
            return 0, 0
        before, after = self.mask_before(month), self.mask_after(month)
        weight = self.weight
        back_to_back = (
            weight(before & new) + weight(new & after) - weight(before & old) - weight(old & after)
        )
        year = self.problem.year_of_month[month]
        # A group gaining a night counts once more if it was at the cap already; one losing a
        # night counts once less if it was above the cap.
        excess = weight(new & ~old & self.at_cap[year]) - weight(old & ~new & self.above_cap[year])
        return back_to_back, excess

    @property
    def index_sum(self) -> int:
        """Tie-breaker: earlier options first, this month's option before all others."""
        return sum(self.plan) + _FIRST_MONTH_WEIGHT * self.plan[0]

    def weight(self, mask: int) -> int:
        """Members in the groups of a night mask (the same masks recur, so remember them)."""
        found = self._weights.get(mask)
        if found is None:
            found = 0
            tables = self.problem.weight_tables
            chunk = 0
            rest = mask
            while rest:  # eight groups at a time
                found += tables[chunk][rest & 255]
                rest >>= 8
                chunk += 1
            self._weights[mask] = found
        return found

    def _count_nights(self, month: int, mask: int, step: int) -> None:
        counts = self.night_counts[self.problem.year_of_month[month]]
        while mask:
            low = mask & -mask
            counts[low.bit_length() - 1] += step
            mask ^= low

    def _mask_at(self, month: int, changed: dict[int, int]) -> int:
        if month < 0:
            return self.problem.last_night_mask
        if month >= len(self.masks):
            return 0
        return changed.get(month, self.masks[month])

    def _full_violation(self) -> int:
        back_to_back = sum(
            self.weight(self._mask_at(m - 1, {}) & self.masks[m]) for m in range(len(self.masks))
        )
        cap = self.problem.night_cap
        sizes = self.problem.sizes
        excess = sum(
            size * max(0, count - cap)
            for counts in self.night_counts
            for size, count in zip(sizes, counts, strict=True)
        )
        return back_to_back + excess

    def violation_after(self, changes: Sequence[tuple[int, int]]) -> int:
        """Night-rule violations (in members) if months change to the given options."""
        problem = self.problem
        changed = {m: problem.nights[m][o] for m, o in changes}
        if all(mask == self.masks[m] for m, mask in changed.items()):
            return self.violation
        delta = 0
        for month in {p for m in changed for p in (m, m + 1) if p < len(self.masks)}:
            delta += self.weight(self._mask_at(month - 1, changed) & self._mask_at(month, changed))
            delta -= self.weight(self._mask_at(month - 1, {}) & self.masks[month])
        count_changes: dict[tuple[int, int], int] = {}
        for month, mask in changed.items():
            year = problem.year_of_month[month]
            bits = mask ^ self.masks[month]
            while bits:
                low = bits & -bits
                key = (year, low.bit_length() - 1)
                count_changes[key] = count_changes.get(key, 0) + (1 if mask & low else -1)
                bits ^= low
        cap = problem.night_cap
        for (year, group), change in count_changes.items():
            count = self.night_counts[year][group]
            delta += problem.sizes[group] * (max(0, count + change - cap) - max(0, count - cap))
        return self.violation + delta

    def apply(self, changes: Sequence[tuple[int, int]]) -> None:
        problem = self.problem
        self.violation = self.violation_after(changes)
        for month, option in changes:
            old = self.plan[month]
            new_costs, old_costs = problem.costs[month][option], problem.costs[month][old]
            self.burden = [
                b + n - o for b, n, o in zip(self.burden, new_costs, old_costs, strict=True)
            ]
            self._count_nights(month, self.masks[month], -1)
            self._count_nights(month, problem.nights[month][option], 1)
            self.masks[month] = problem.nights[month][option]
            self.total += problem.totals[month][option] - problem.totals[month][old]
            self.plan[month] = option
        self._refresh_cap_masks()
