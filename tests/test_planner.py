"""Plain-function tests of the fair meeting planner (scheduling/*)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from scheduling.planner.cli import main
from scheduling.planner.cost import CostProfile, Window, block_cost, block_is_night, meeting_cost
from scheduling.planner.errors import NoSlotError, RosterError, RulesError
from scheduling.planner.explain import render_month, render_reason
from scheduling.planner.holidays_calendar import holiday_names, is_holiday, orthodox_easter
from scheduling.planner.ledger import ledger_from_rows, record_meeting
from scheduling.planner.metrics import weighted_gini
from scheduling.planner.month_plan import plan_month
from scheduling.planner.months import YearMonth
from scheduling.planner.options import OptionBuilder, Penalties, group_outcome
from scheduling.planner.problem import group_histories
from scheduling.planner.results import Reason
from scheduling.planner.roster import Member, group_members, parse_hours, parse_roster
from scheduling.planner.slots import Rules, candidate_starts, parse_weekdays

DEFAULT = CostProfile()
HEADER = "name,city,zone,earliest,latest\n"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


# --- cost curve -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "cost"),
    [
        ("10:00", 0), ("19:30", 0), ("09:30", 1), ("20:00", 1), ("08:00", 2), ("21:30", 2),
        ("07:00", 4), ("22:00", 4), ("06:30", 8), ("23:30", 8), ("00:00", 16), ("05:30", 16),
    ],
)  # fmt: skip
def test_block_costs_follow_the_benchmark_curve(local: str, cost: int) -> None:
    assert block_cost(DEFAULT, 5, hhmm(local)) == cost  # a Saturday: no work penalty


def test_work_hours_on_weekdays_cost_two_more() -> None:
    assert block_cost(DEFAULT, 0, hhmm("09:00")) == 1 + 2
    assert block_cost(DEFAULT, 4, hhmm("17:30")) == 0 + 2
    assert block_cost(DEFAULT, 4, hhmm("18:00")) == 0
    assert block_cost(DEFAULT, 6, hhmm("12:00")) == 0


def test_meeting_cost_is_the_mean_of_its_blocks_and_nights_touch_00_06() -> None:
    assert meeting_cost(DEFAULT, 5, hhmm("08:30"), 90) == ((2 + 1 + 1) / 3, False)
    assert meeting_cost(DEFAULT, 5, hhmm("23:00"), 90) == ((8 + 8 + 16) / 3, True)
    assert meeting_cost(DEFAULT, 5, hhmm("06:00"), 90)[1] is False
    assert block_is_night(DEFAULT, hhmm("05:30")) and not block_is_night(DEFAULT, hhmm("23:30"))


def test_stated_hours_shift_the_flat_part_and_may_cross_midnight() -> None:
    early = CostProfile(Window(hhmm("06:00"), hhmm("14:00")))
    assert block_cost(early, 5, hhmm("06:00")) == 0
    assert block_cost(early, 5, hhmm("14:00")) == 1
    owl = CostProfile(parse_hours("22:00", "02:00"))
    assert block_cost(owl, 5, hhmm("23:30")) == 0
    assert block_cost(owl, 5, hhmm("01:30")) == 0
    assert block_cost(owl, 5, hhmm("12:00")) == 16
    # Night only counts outside the hours a member said suit them.
    assert not block_is_night(owl, hhmm("01:00"))
    assert block_is_night(owl, hhmm("03:00"))


def test_gini_of_equal_and_unequal_burdens() -> None:
    assert weighted_gini([5.0, 5.0], [3, 7]) == 0.0
    assert weighted_gini([0.0, 10.0], [1, 1]) == pytest.approx(0.5)


# --- roster -----------------------------------------------------------------------------


def test_roster_rows_become_members_and_groups() -> None:
    members = parse_roster(
        (
            HEADER
            + "Ann,Berlin,Europe/Berlin,,\n"
            + "Bo,Berlin,Europe/Berlin,,\n"
            + "Cy,Sydney,Australia/Sydney,22:00,01:00\n"
        ).splitlines(keepends=True)
    )
    assert [m.key for m in members] == ["Ann", "Bo", "Cy"]
    assert members[2].hours == Window(hhmm("22:00"), hhmm("01:00"))
    groups = group_members(members)
    assert [(g.zone, g.size) for g in groups] == [("Australia/Sydney", 1), ("Europe/Berlin", 2)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("X,Mars,Mars/Base,,", "unknown time zone 'Mars/Base'"),
        ("X,Oslo,Europe/Oslo,25:00,26:00", "'25:00' is not a time of day"),
        ("X,Oslo,Europe/Oslo,09:60,18:00", "'09:60' is not a time of day"),
        ("X,Oslo,Europe/Oslo,09:00,", "give both earliest and latest"),
        ("X,Oslo,Europe/Oslo,09:00,09:00", "earliest and latest are both 09:00"),
        ("X,Oslo,Europe/Oslo,9am,18:00", "'9am' is not a time of day"),
    ],
)
def test_bad_roster_rows_name_the_line_and_the_problem(row: str, reason: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster((HEADER + "Ok,Oslo,Europe/Oslo,,\n" + row + "\n").splitlines(keepends=True))
    assert caught.value.line == 3
    assert reason in str(caught.value)
    assert str(caught.value).startswith("roster line 3: ")


def test_empty_roster_missing_columns_and_duplicates_are_rejected() -> None:
    with pytest.raises(RosterError, match="no members"):
        parse_roster([HEADER])
    with pytest.raises(RosterError, match="missing column"):
        parse_roster(["name,city,zone\n", "A,B,UTC\n"])
    with pytest.raises(RosterError, match="appears twice"):
        parse_roster([HEADER, "A,B,UTC,,\n", "A,C,UTC,,\n"])
    with pytest.raises(RosterError, match="no members"):
        plan_month([], Rules(), "2027-01")


def test_latest_before_earliest_means_across_midnight() -> None:
    window = parse_hours("20:00", "02:00")
    assert window.length == 6 * 60
    assert window.contains_span(hhmm("23:00"), 90)
    assert not window.contains_span(hhmm("01:00"), 90)


# --- rules and slots --------------------------------------------------------------------


def test_candidates_follow_weekdays_weeks_step_and_zone() -> None:
    rules = Rules(weekdays=parse_weekdays("sat"), weeks_of_month=frozenset({2}), step_minutes=60)
    starts = candidate_starts(rules, YearMonth(2027, 1))
    assert starts[0] == utc("2027-01-09T00:00") and len(starts) == 24
    moscow = Rules(weekdays=frozenset({5}), days_zone="Europe/Moscow", step_minutes=30)
    first = candidate_starts(moscow, YearMonth(2027, 1))[0]
    assert first == utc("2027-01-01T21:00")  # 00:00 Saturday 2 January in Moscow


def test_bad_rules_and_months_without_slots() -> None:
    with pytest.raises(RulesError):
        parse_weekdays("funday")
    with pytest.raises(RulesError):
        Rules(step_minutes=0)
    with pytest.raises(RulesError):
        Rules(days_zone="Nowhere/City")
    only_fifth = Rules(weekdays=frozenset({5}), weeks_of_month=frozenset({5}))
    members = [Member("a", "Oslo", "Europe/Oslo")]
    with pytest.raises(NoSlotError, match="2027-02"):
        plan_month(members, only_fifth, "2027-02")  # February 2027 has no 29th-31st


def test_every_member_blocked_everywhere_is_a_clear_error() -> None:
    members = [
        # UTC weekends reach from Friday evening in Lima to Monday morning in Oslo.
        Member("a", "Oslo", "Europe/Oslo", unavailable_weekdays=frozenset({5, 6, 0})),
        Member("b", "Lima", "America/Lima", unavailable_weekdays=frozenset({4, 5, 6})),
    ]
    with pytest.raises(NoSlotError, match="every member is unavailable"):
        plan_month(members, Rules(), "2027-05")


# --- DST: local times on the meeting's own date ----------------------------------------

CITIES = {
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "Los Angeles": "America/Los_Angeles",
    "Sydney": "Australia/Sydney",
}
# Saturday 14:00 UTC around each 2027 change: (local weekday, hh:mm, UTC offset in hours).
EXPECTED = {
    "2027-03-13T14:00": {"Berlin": ("Sat", "15:00", 1), "New York": ("Sat", "09:00", -5),
                         "Los Angeles": ("Sat", "06:00", -8), "Sydney": ("Sun", "01:00", 11)},
    "2027-03-20T14:00": {"Berlin": ("Sat", "15:00", 1), "New York": ("Sat", "10:00", -4),
                         "Los Angeles": ("Sat", "07:00", -7), "Sydney": ("Sun", "01:00", 11)},
    "2027-04-03T14:00": {"Berlin": ("Sat", "16:00", 2), "New York": ("Sat", "10:00", -4),
                         "Los Angeles": ("Sat", "07:00", -7), "Sydney": ("Sun", "01:00", 11)},
    "2027-04-10T14:00": {"Berlin": ("Sat", "16:00", 2), "Sydney": ("Sun", "00:00", 10)},
    "2027-10-02T14:00": {"Berlin": ("Sat", "16:00", 2), "Sydney": ("Sun", "00:00", 10)},
    "2027-10-09T14:00": {"Sydney": ("Sun", "01:00", 11)},
    "2027-10-30T14:00": {"Berlin": ("Sat", "16:00", 2), "New York": ("Sat", "10:00", -4)},
    "2027-11-06T14:00": {"Berlin": ("Sat", "15:00", 1), "New York": ("Sat", "10:00", -4),
                         "Los Angeles": ("Sat", "07:00", -7)},
    "2027-11-13T14:00": {"Berlin": ("Sat", "15:00", 1), "New York": ("Sat", "09:00", -5),
                         "Los Angeles": ("Sat", "06:00", -8), "Sydney": ("Sun", "01:00", 11)},
}  # fmt: skip


def _city_groups() -> dict[str, object]:
    members = [Member(city, city, zone) for city, zone in CITIES.items()]
    return {group.cities[0][0]: group for group in group_members(members)}


@pytest.mark.parametrize("instant", sorted(EXPECTED))
def test_local_hours_in_dst_weeks(instant: str) -> None:
    groups = _city_groups()
    for city, (weekday, clock, offset) in EXPECTED[instant].items():
        outcome = group_outcome(groups[city], utc(instant), 90, Penalties())
        assert outcome.local_start.strftime("%a %H:%M") == f"{weekday} {clock}", city
        assert outcome.local_start.utcoffset() == timedelta(hours=offset), city


@pytest.mark.parametrize(
    ("month", "week", "city", "before", "after"),
    [
        # Berlin 07:00 UTC: 08:00 CET costs (2+2+1)/3, 09:00 CEST (1+1+0)/3 (EU: 28 March).
        (YearMonth(2027, 3), 4, "Berlin", "2027-03-27T07:00", None),
        (YearMonth(2027, 4), 1, "Berlin", None, "2027-04-03T07:00"),
        # New York 13:00 UTC: 08:00 EST, then 09:00 EDT (US change 14 March).
        (YearMonth(2027, 3), 2, "New York", "2027-03-13T13:00", None),
        (YearMonth(2027, 3), 3, "New York", None, "2027-03-20T13:00"),
    ],
)
def test_option_costs_use_each_dates_offset(month, week, city, before, after) -> None:
    groups = list(_city_groups().values())
    index = [g.cities[0][0] for g in groups].index(city)
    rules = Rules(weekdays=frozenset({5}), weeks_of_month=frozenset({week}))
    options = {
        o.start_utc: o for o in OptionBuilder(groups, rules, Penalties()).month_options(month)
    }
    if before:
        assert options[utc(before)].costs[index] == pytest.approx((2 + 2 + 1) / 3)
    if after:
        assert options[utc(after)].costs[index] == pytest.approx((1 + 1 + 0) / 3)


def test_meeting_across_a_dst_change_is_costed_block_by_block() -> None:
    sydney = _city_groups()["Sydney"]
    # 2027-04-03 15:30 UTC: 02:30 AEDT, then 02:00 and 02:30 AEST after the change at 16:00.
    outcome = group_outcome(sydney, utc("2027-04-03T15:30"), 90, Penalties())
    assert outcome.local_start.strftime("%H:%M%z") == "02:30+1100"
    assert outcome.local_end.strftime("%H:%M%z") == "03:00+1000"
    assert outcome.night and outcome.cost == 16


def test_plan_rows_show_dst_correct_local_times() -> None:
    members = [Member(city, city, zone) for city, zone in CITIES.items()]
    rules = Rules(weekdays=frozenset({5}), weeks_of_month=frozenset({3}))
    plan = plan_month(members, rules, "2027-03", horizon_months=1)
    start = plan.choice.start_utc
    assert start.date() == date(2027, 3, 20)
    offsets = {row.city: row.local_start.utcoffset() for row in plan.choice.rows}
    assert offsets == {
        "Los Angeles": timedelta(hours=-7),
        "New York": timedelta(hours=-4),
        "Berlin": timedelta(hours=1),
        "Sydney": timedelta(hours=11),
    }
    for row in plan.choice.rows:
        assert row.local_start == start.astimezone(row.local_start.tzinfo)


# --- holidays, ledger -------------------------------------------------------------------


def test_holidays_include_spring_festival_victory_day_and_orthodox_easter() -> None:
    assert orthodox_easter(2027) == date(2027, 5, 2)
    assert is_holiday("RU", date(2027, 5, 2))
    assert is_holiday("RU", date(2027, 5, 9))
    assert "Spring Festival" in holiday_names("CN", 2027)[date(2027, 2, 6)]
    assert not is_holiday(None, date(2027, 5, 9))


def test_holiday_penalty_weighs_by_members_affected() -> None:
    members = [Member(f"r{i}", "Moscow", "Europe/Moscow", country="RU") for i in range(3)]
    members += [Member("d", "Berlin", "Europe/Berlin", country="DE")]
    groups = group_members(members)
    moscow = next(g for g in groups if g.zone == "Europe/Moscow")
    victory_day = group_outcome(moscow, utc("2027-05-09T10:00"), 90, Penalties())
    assert victory_day.holiday and victory_day.cost == Penalties().holiday
    rules = Rules(weekdays=frozenset({6}))  # Sundays of May 2027: 2 (Easter), 9, 16, ...
    options = OptionBuilder(groups, rules, Penalties()).month_options(YearMonth(2027, 5))
    best = min(options, key=lambda o: (o.total, o.start_utc))
    assert best.total == 0 and best.start_utc.date() == date(2027, 5, 16)
    plan = plan_month(members, rules, "2027-05", horizon_months=1)
    assert plan.choice.start_utc.date() == date(2027, 5, 16)


def test_ledger_records_costs_and_nights_per_member() -> None:
    members = [Member("ny", "New York", "America/New_York"), Member("b", "Berlin", "Europe/Berlin")]
    ledger = record_meeting({}, members, "2027-01", utc("2027-01-02T08:00"), 90)
    assert ledger["ny"].entries[0].night and ledger["ny"].entries[0].cost == 16
    assert not ledger["b"].entries[0].night
    again = record_meeting(ledger, members, "2027-01", utc("2027-01-02T16:00"), 90)
    assert len(again["ny"].entries) == 1 and not again["ny"].entries[0].night
    rows = [("ny", "2027-01", 16.0, True), ("ny", "2027-02", 2.0, False)]
    stored = ledger_from_rows(rows)
    history = group_histories(group_members(members), stored, YearMonth(2027, 3), 12)
    by_zone = {g.zone: h for g, h in zip(group_members(members), history, strict=True)}
    assert by_zone["America/New_York"].worst_cost == 18.0
    assert by_zone["America/New_York"].nights_this_year == 1
    assert not by_zone["America/New_York"].night_last_month


def test_a_night_last_month_is_not_repeated_when_avoidable() -> None:
    members = [Member(f"ny{i}", "New York", "America/New_York") for i in range(5)]
    members += [Member(f"h{i}", "Harbin", "Asia/Shanghai") for i in range(2)]
    ledger = ledger_from_rows((m.key, "2027-01", 16.0, m.city == "New York") for m in members)
    plan = plan_month(members, Rules(), "2027-02", ledger, horizon_months=1)
    rows = {row.city: row for row in plan.choice.rows}
    assert rows["New York"].night == 0


# --- planner output and explanations -----------------------------------------------------


def test_month_plan_has_choice_two_runners_up_reason_and_tentative_months() -> None:
    members = [Member(city, city, zone) for city, zone in CITIES.items()]
    plan = plan_month(members, Rules(), "2027-01", horizon_months=3)
    assert len(plan.runners_up) == 2
    starts = {plan.choice.start_utc, *(o.start_utc for o in plan.runners_up)}
    assert len(starts) == 3
    assert [str(t.month) for t in plan.tentative] == ["2027-02", "2027-03"]
    assert plan.choice.start_utc.tzinfo == UTC
    assert plan.choice.end_utc - plan.choice.start_utc == timedelta(minutes=90)
    text = "\n".join(render_month(plan))
    assert "Why:" in text and "Sydney" in text


@pytest.mark.parametrize(
    ("code", "params", "expected"),
    [
        ("night_cap", {"city": "New York", "nights_this_year": 3, "cap": 3,
                       "local_time": "Sat 09:00", "runner_up_time": "Sat 02:00"},
         "New York had 3 nights this year (limit 3); this slot gives them Sat 09:00"),
        ("night_back_to_back", {"city": "Sydney", "nights_this_year": 1,
                                "local_time": "Sun 10:00", "runner_up_time": "Sun 01:00"},
         "Sydney had a night-time meeting last month"),
        ("lighter", {"city": "Berlin", "nights_this_year": 0, "local_time": "Sat 12:00",
                     "runner_up_time": "Sat 07:00", "mean_burden": 41.8,
                     "runner_up_mean_burden": 43.1}, "Berlin had no nights this year"),
        ("earlier", {}, "the earlier slot wins"),
    ],
)  # fmt: skip
def test_reasons_render_as_one_sentence(code: str, params: dict, expected: str) -> None:
    sentence = render_reason(Reason(code, params))
    assert expected in sentence
    assert sentence.endswith(".") and "\n" not in sentence


# --- offline command ----------------------------------------------------------------------


@pytest.fixture
def small_roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        HEADER
        + "Ann,Berlin,Europe/Berlin,,\n"
        + "Bo,New York,America/New_York,08:00,22:00\n"
        + "Cy,Sydney,Australia/Sydney,,\n"
        + "Di,Harbin,Asia/Shanghai,,\n",
        encoding="utf-8",
    )
    return path


def test_cli_prints_each_month_and_the_metrics(small_roster, capsys) -> None:
    code = main(["--roster", str(small_roster), "--from", "2027-01", "--months", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("2027-01: ") and "\n2027-02: " in out
    assert "maxB" in out and "%09-21" in out


def test_cli_json_lists_months_with_utc_starts(small_roster, capsys) -> None:
    args = ["--roster", str(small_roster), "--from", "2027-01", "--months", "2", "--json"]
    assert main([*args, "--days", "sun", "--step", "60", "--duration", "60"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [item["month"] for item in data] == ["2027-01", "2027-02"]
    start = datetime.strptime(data[0]["start_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert start.weekday() == 6 and start.minute == 0
    assert {row["city"] for row in data[0]["local"]} == {"Berlin", "New York", "Sydney", "Harbin"}
    assert len(data[0]["runners_up"]) == 2 and data[0]["reason"]["text"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (HEADER + "A,Mars,Mars/Base,,\n", [], "roster line 2: unknown time zone"),
        (HEADER + "A,Oslo,Europe/Oslo,25:00,03:00\n", [], "roster line 2: '25:00'"),
        (HEADER, [], "roster: the roster has no members"),
        (HEADER + "A,Oslo,Europe/Oslo,,\n", ["--days", "sat", "--weeks", "5", "--from",
                                              "2027-02"], "2027-02: the club's rules allow no"),
        (HEADER + "A,Oslo,Europe/Oslo,,\n", ["--from", "2027-13"], "is not a month"),
        (HEADER + "A,Oslo,Europe/Oslo,,\n", ["--days-zone", "Mars/Base"], "days zone"),
        (HEADER + "A,Oslo,Europe/Oslo,,\n", ["--months", "abc"], "invalid int value"),
    ],
)  # fmt: skip
def test_cli_bad_input_prints_one_line_and_exits_2(tmp_path, capsys, content, args, message):
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    argv = ["--roster", str(path), "--months", "1", *args]
    if "--from" not in args:
        argv += ["--from", "2027-01"]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "Traceback" not in captured.err


def test_cli_missing_roster_file(tmp_path, capsys) -> None:
    code = main(["--roster", str(tmp_path / "none.csv"), "--from", "2027-01"])
    assert code == 2 and "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("cities", [["Asia/Harbin"], ["Asia/Harbin", "Australia/Sydney"]])
def test_a_small_club_still_gets_three_times_to_choose_from(cities: list[str]) -> None:
    """With one or two members every hour in their day costs the same, and those starts
    collapse into one option; organisers still get three, on different days first."""
    from scheduling.planner.cost import Window as HoursWindow
    from scheduling.planner.month_plan import plan_month as plan
    from scheduling.planner.roster import Member as RosterMember
    from scheduling.planner.slots import Rules as SlotRules

    members = [
        RosterMember(key=n, city=zone, zone=zone, hours=HoursWindow(9 * 60, 21 * 60))
        for n, zone in enumerate(cities)
    ]
    result = plan(members, SlotRules(), "2027-02")
    starts = [result.choice.start_utc, *(o.start_utc for o in result.runners_up)]
    assert len(starts) == 3
    assert len({s.date() for s in starts}) == 3
    assert result.reason.code != "only_option"
    assert all(o.worst_cost == result.choice.worst_cost for o in result.runners_up)
