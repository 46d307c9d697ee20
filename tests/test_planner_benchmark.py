"""The benchmark (../shared/fairness-benchmark.md): reference policies and the planner's aim."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduling.planner import policies
from scheduling.planner.cli import run
from scheduling.planner.metrics import FairnessMetrics, run_metrics
from scheduling.planner.months import YearMonth
from scheduling.planner.options import Penalties
from scheduling.planner.problem import PlannerSettings
from scheduling.planner.roster import group_members, load_roster
from scheduling.planner.slots import Rules

# A copy of the team's benchmark roster, so the benchmark test never depends on a folder
# outside the repository; the test below keeps it equal to ../shared when that exists.
ROSTER = Path(__file__).resolve().parent / "data" / "roster-60.csv"
SHARED_ROSTER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "roster-60.csv"
MONTHS = [YearMonth(2027, month) for month in range(1, 13)]
RULES = Rules(weekdays=frozenset({5, 6}), days_zone="UTC", step_minutes=30, duration_minutes=90)


@pytest.fixture(scope="module")
def members():
    return load_roster(ROSTER)


def rounded(metrics: FairnessMetrics) -> tuple:
    return (
        round(metrics.max_burden, 1),
        round(metrics.mean_burden, 1),
        round(metrics.gini, 2),
        metrics.max_nights,
        round(metrics.share_09_21, 1),
    )


def test_reference_policies_reproduce_the_benchmark_table(members) -> None:
    groups = group_members(members)
    penalties = Penalties()
    measured = {
        "fixed": policies.fixed_moscow_noon_second_saturday(MONTHS),
        "total": policies.least_total_cost(groups, RULES, MONTHS, penalties),
        "worst": policies.least_worst_cost(groups, RULES, MONTHS, penalties),
        "greedy": policies.rotating_greedy(groups, RULES, MONTHS, penalties),
    }
    table = {name: rounded(run_metrics(groups, starts, 90)) for name, starts in measured.items()}
    assert table == {
        "fixed": (192.0, 25.8, 0.85, 12, 80.0),
        "total": (164.0, 21.3, 0.78, 9, 65.4),
        "worst": (83.0, 31.7, 0.46, 7, 53.9),
        "greedy": (64.0, 55.4, 0.04, 4, 42.8),
    }


def test_planner_meets_the_aim_on_roster_60_deterministically(members) -> None:
    plans, metrics = run(members, RULES, MONTHS[0], 12, None, PlannerSettings())
    assert metrics.max_burden <= 60 + 1e-9
    assert metrics.mean_burden <= 44
    assert metrics.max_nights <= 3
    assert metrics.back_to_back == 0
    again, _ = run(members, RULES, MONTHS[0], 12, None, PlannerSettings())
    assert [p.choice.start_utc for p in plans] == [p.choice.start_utc for p in again]
    assert all(len(plan.runners_up) == 2 for plan in plans[:-1])


def test_vendored_roster_matches_the_shared_one() -> None:
    assert ROSTER.exists()
    if SHARED_ROSTER.exists():
        assert ROSTER.read_bytes() == SHARED_ROSTER.read_bytes()
