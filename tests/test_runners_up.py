"""The runners-up are real alternatives, not the best slot moved by half an hour."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from scheduling.planner.month_plan import plan_month
from scheduling.planner.optimizer import RUNNER_UP_MIN_GAP
from scheduling.planner.roster import load_roster
from scheduling.planner.slots import Rules

ROSTER = Path(__file__).resolve().parent / "data" / "roster-60.csv"


def test_runners_up_start_at_least_three_hours_from_each_other() -> None:
    plan = plan_month(load_roster(ROSTER), Rules(), "2027-02")
    starts = [plan.choice.start_utc, *(option.start_utc for option in plan.runners_up)]
    assert len(starts) == 3
    gaps = [abs(a - b) for i, a in enumerate(starts) for b in starts[i + 1 :]]
    assert min(gaps) >= RUNNER_UP_MIN_GAP == timedelta(hours=3)


def test_reason_carries_instants_for_the_chat_layer() -> None:
    plan = plan_month(load_roster(ROSTER), Rules(), "2027-02")
    params = plan.reason.params
    if "city" in params:  # every code but only_option names a city
        assert {"zone", "start_utc", "runner_up_start_utc"} <= set(params)
