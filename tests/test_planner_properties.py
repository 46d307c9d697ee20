"""Property tests of the planner (hypothesis, small example counts to stay fast)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.planner.cost import Window
from scheduling.planner.errors import NoSlotError
from scheduling.planner.month_plan import plan_month
from scheduling.planner.months import YearMonth
from scheduling.planner.roster import Member
from scheduling.planner.slots import Rules, candidate_starts

ZONES = [
    "America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/Berlin",
    "Europe/Moscow", "Asia/Kolkata", "Asia/Shanghai", "Asia/Vladivostok", "Australia/Sydney",
    "Pacific/Auckland",
]  # fmt: skip

hours = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 47), st.integers(1, 47)).map(
        lambda pair: Window(pair[0] * 30, (pair[0] * 30 + pair[1] * 30) % 1440 or 1440)
    ),
)
members = st.lists(
    st.tuples(st.sampled_from(ZONES), hours, st.frozensets(st.integers(0, 6), max_size=2)),
    min_size=1,
    max_size=7,
).map(
    lambda rows: [
        Member(f"m{i}", zone.rsplit("/", 1)[-1], zone, hour, unavailable_weekdays=days)
        for i, (zone, hour, days) in enumerate(rows)
    ]
)
rules = st.builds(
    Rules,
    weekdays=st.frozensets(st.integers(0, 6), min_size=1, max_size=3),
    days_zone=st.sampled_from(["UTC", "Europe/Moscow", "America/New_York", "Australia/Sydney"]),
    step_minutes=st.sampled_from([30, 60, 90]),
    duration_minutes=st.sampled_from([60, 90, 120]),
    weeks_of_month=st.one_of(st.none(), st.frozensets(st.integers(1, 5), min_size=1)),
)
months = st.builds(YearMonth, st.just(2027), st.integers(1, 12))
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(members, rules, months)
def test_every_pick_is_an_allowed_slot(roster, club_rules, month) -> None:
    try:
        plan = plan_month(roster, club_rules, month, horizon_months=2)
    except NoSlotError:
        return  # e.g. a fifth week that this month lacks, or everyone unavailable
    allowed = set(candidate_starts(club_rules, month))
    assert plan.choice.start_utc in allowed
    assert all(option.start_utc in allowed for option in plan.runners_up)
    assert plan.choice.end_utc - plan.choice.start_utc == timedelta(
        minutes=club_rules.duration_minutes
    )
    for tentative in plan.tentative:
        assert tentative.start_utc in set(candidate_starts(club_rules, tentative.month))
    assert sum(row.members for row in plan.choice.rows) == len(roster)


@FAST
@given(members, st.randoms(use_true_random=False), months)
def test_result_does_not_depend_on_member_order(roster, chooser, month) -> None:
    shuffled = list(roster)
    chooser.shuffle(shuffled)
    first = plan_month(roster, Rules(), month, horizon_months=2)
    second = plan_month(shuffled, Rules(), month, horizon_months=2)
    assert first.choice.start_utc == second.choice.start_utc
    assert [o.start_utc for o in first.runners_up] == [o.start_utc for o in second.runners_up]
    assert first.reason == second.reason
    assert first.tentative == second.tentative
    assert first.choice.rows == second.choice.rows
