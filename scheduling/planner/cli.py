"""Offline planner: `python -m scheduling.planner.cli --roster FILE.csv --from 2027-01 --months 12`.

Plans consecutive months with rotation: each month is planned over the rest of the run
(or `--horizon` months) from the burden ledger so far, its slot is recorded in the ledger,
and the next month is re-planned. Prints each month's pick with local times by city and the
run's fairness metrics; `--json` prints a JSON list instead. Bad input: one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from scheduling.planner.errors import PlanningError, RulesError
from scheduling.planner.explain import render_month, render_reason
from scheduling.planner.ledger import record_meeting
from scheduling.planner.metrics import FairnessMetrics, run_metrics
from scheduling.planner.month_plan import plan_month
from scheduling.planner.months import YearMonth
from scheduling.planner.problem import PlannerSettings
from scheduling.planner.results import MonthPlan, SlotOption
from scheduling.planner.roster import Member, group_members, load_roster
from scheduling.planner.slots import Rules, parse_weekdays


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m scheduling.planner.cli",
        description="Plan fair monthly meeting times for a roster, with rotation.",
    )
    parser.add_argument(
        "--roster",
        required=True,
        help="CSV name,city,zone,earliest,latest[,country][,unavailable]; empty hours: none "
        "stated; latest before earliest: the hours run across midnight (e.g. 22:00-02:00)",
    )
    parser.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--months", type=int, default=12, help="how many months (default 12)")
    parser.add_argument("--days", default="sat,sun", help="allowed weekdays (default sat,sun)")
    parser.add_argument("--days-zone", default="UTC", help="zone of the weekdays (default UTC)")
    parser.add_argument("--step", type=int, default=30, help="minutes between starts")
    parser.add_argument("--duration", type=int, default=90, help="meeting length in minutes")
    parser.add_argument("--weeks", help="weeks of the month, e.g. 1,2 (days 1-7 are week 1)")
    parser.add_argument("--horizon", type=int, help="months planned ahead (default: to the end)")
    parser.add_argument("--night-cap", type=int, default=3, help="nights per member per year")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def _weeks(text: str | None) -> frozenset[int] | None:
    if not text:
        return None
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise RulesError(f"'{text}' is not a list of week numbers such as 1,2") from None


def run(
    members: Sequence[Member],
    rules: Rules,
    first: YearMonth,
    months: int,
    horizon: int | None,
    settings: PlannerSettings,
) -> tuple[list[MonthPlan], FairnessMetrics]:
    """Plan `months` consecutive months with rotation; returns the plans and the metrics."""
    ledger: dict = {}
    plans: list[MonthPlan] = []
    warm: list[datetime] = []
    for offset in range(months):
        month = first.shifted(offset)
        remaining = months - offset
        plan = plan_month(
            members,
            rules,
            month,
            ledger,
            horizon_months=min(horizon, remaining) if horizon else remaining,
            settings=settings,
            warm_start=warm,
        )
        plans.append(plan)
        ledger = record_meeting(
            ledger,
            members,
            month,
            plan.choice.start_utc,
            rules.duration_minutes,
            settings.penalties,
        )
        warm = [tentative.start_utc for tentative in plan.tentative]
    starts = [plan.choice.start_utc for plan in plans]
    metrics = run_metrics(
        group_members(members), starts, rules.duration_minutes, settings.penalties
    )
    return plans, metrics


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _option_json(option: SlotOption) -> dict:
    return {
        "start_utc": _iso(option.start_utc),
        "end_utc": _iso(option.end_utc),
        "projected_max_burden": option.projected_max_burden,
        "projected_mean_burden": option.projected_mean_burden,
        "night_members": option.night_members,
        "night_rule_breaks": option.night_rule_breaks,
        "local": [
            {
                "city": row.city,
                "zone": row.zone,
                "local_start": row.local_start.isoformat(),
                "members": row.members,
                "outside_hours": row.outside_hours,
                "night": row.night,
                "holiday": row.holiday,
                "unavailable": row.unavailable,
            }
            for row in option.rows
        ],
    }


def plan_json(plan: MonthPlan) -> dict:
    return {
        "month": str(plan.month),
        **_option_json(plan.choice),
        "reason": {
            "code": plan.reason.code,
            "params": dict(plan.reason.params),
            "text": render_reason(plan.reason),
        },
        "runners_up": [_option_json(option) for option in plan.runners_up],
        "tentative": [
            {"month": str(item.month), "start_utc": _iso(item.start_utc)} for item in plan.tentative
        ],
        "least_max_burden": plan.least_max_burden,
        "budget": plan.budget,
    }


def metrics_lines(metrics: FairnessMetrics) -> list[str]:
    return [
        f"Fairness over {metrics.meetings} meetings, {metrics.members} members:",
        f"  maxB {metrics.max_burden:.1f}  meanB {metrics.mean_burden:.1f}  "
        f"Gini {metrics.gini:.2f}  maxN {metrics.max_nights}  "
        f"back-to-back {metrics.back_to_back}  %09-21 {metrics.share_09_21:.1f}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        if arguments.months < 1:
            raise PlanningError("--months must be at least 1")
        if arguments.horizon is not None and arguments.horizon < 1:
            raise PlanningError("--horizon must be at least 1")
        members = load_roster(arguments.roster)
        rules = Rules(
            weekdays=parse_weekdays(arguments.days),
            days_zone=arguments.days_zone,
            step_minutes=arguments.step,
            duration_minutes=arguments.duration,
            weeks_of_month=_weeks(arguments.weeks),
        )
        settings = PlannerSettings(night_cap=arguments.night_cap)
        first = YearMonth.parse(arguments.start)
        plans, metrics = run(members, rules, first, arguments.months, arguments.horizon, settings)
    except PlanningError as error:
        print(f"plan: error: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        print(json.dumps([plan_json(plan) for plan in plans], indent=2, ensure_ascii=False))
        return 0
    for plan in plans:
        print("\n".join(render_month(plan)))
        print()
    print("\n".join(metrics_lines(metrics)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
