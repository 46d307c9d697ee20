"""The benchmark's fairness metrics over a run of monthly meetings (per member, by group)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduling.planner.options import Penalties, group_outcome
from scheduling.planner.roster import Group


@dataclass(frozen=True, slots=True)
class FairnessMetrics:
    max_burden: float  # maxB: the largest cumulative cost of any member
    mean_burden: float  # meanB
    gini: float  # Gini coefficient of the members' cumulative costs
    max_nights: int  # maxN: most nights any member gets
    back_to_back: int  # members with nights in two consecutive meetings
    share_09_21: float  # percent of member-meetings wholly inside 09:00-21:00 local
    members: int
    meetings: int


def weighted_gini(values: Sequence[float], weights: Sequence[int]) -> float:
    """Gini of a population given as (value, how many members have it)."""
    pairs = sorted(zip(values, weights, strict=True))
    total_weight = sum(weights)
    total_value = sum(value * weight for value, weight in pairs)
    if total_weight == 0 or total_value == 0:
        return 0.0
    weight_below = 0
    value_below = 0.0
    pair_differences = 0.0  # sum over unordered member pairs of |x_i - x_j|
    for value, weight in pairs:
        pair_differences += weight * (value * weight_below - value_below)
        weight_below += weight
        value_below += value * weight
    mean = total_value / total_weight
    return pair_differences / (total_weight**2 * mean)


def run_metrics(
    groups: Sequence[Group],
    starts: Sequence[datetime],
    duration: int,
    penalties: Penalties | None = None,
) -> FairnessMetrics:
    """Metrics for one meeting per entry of `starts` (consecutive months), recomputed exactly."""
    penalties = penalties or Penalties()
    burdens = [0.0] * len(groups)
    nights = [0] * len(groups)
    back_to_back = [False] * len(groups)
    inside = 0
    for index, group in enumerate(groups):
        previous_night = False
        for start in starts:
            outcome = group_outcome(group, start, duration, penalties)
            burdens[index] += outcome.cost
            nights[index] += outcome.night
            back_to_back[index] |= previous_night and outcome.night
            previous_night = outcome.night
            inside += group.size * outcome.inside_09_21
    sizes = [group.size for group in groups]
    members = sum(sizes)
    return FairnessMetrics(
        max_burden=max(burdens),
        mean_burden=sum(b * n for b, n in zip(burdens, sizes, strict=True)) / members,
        gini=weighted_gini(burdens, sizes),
        max_nights=max(nights),
        back_to_back=sum(n for flag, n in zip(back_to_back, sizes, strict=True) if flag),
        share_09_21=100.0 * inside / (members * len(starts)) if starts else 0.0,
        members=members,
        meetings=len(starts),
    )
