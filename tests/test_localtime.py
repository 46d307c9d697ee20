from datetime import UTC, datetime

import pytest

from scheduling.geo.localtime import (
    AmbiguousLocalTime,
    LocalTimeError,
    NonexistentLocalTime,
    format_clock_now,
    format_hours,
    format_meeting_time,
    format_utc_offset,
    hours_contain,
    parse_date,
    parse_hours,
    parse_local_datetime,
    parse_time,
    to_local,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- DST: one weekly meeting instant, shown on both sides of each 2027 change ---------------

DST_CASES = [
    # Sydney: AEDT -> AEST on Sun 4 Apr 2027 (03:00 -> 02:00), back on Sun 3 Oct 2027.
    ("Australia/Sydney", utc(2027, 4, 3, 9), "Saturday 3 April, 20:00", "UTC+11"),
    ("Australia/Sydney", utc(2027, 4, 10, 9), "Saturday 10 April, 19:00", "UTC+10"),
    ("Australia/Sydney", utc(2027, 10, 2, 9), "Saturday 2 October, 19:00", "UTC+10"),
    ("Australia/Sydney", utc(2027, 10, 9, 9), "Saturday 9 October, 20:00", "UTC+11"),
    # Berlin: CET -> CEST on Sun 28 Mar 2027, back on Sun 31 Oct 2027.
    ("Europe/Berlin", utc(2027, 3, 27, 9), "Saturday 27 March, 10:00", "UTC+1"),
    ("Europe/Berlin", utc(2027, 4, 3, 9), "Saturday 3 April, 11:00", "UTC+2"),
    ("Europe/Berlin", utc(2027, 10, 30, 9), "Saturday 30 October, 11:00", "UTC+2"),
    ("Europe/Berlin", utc(2027, 11, 6, 9), "Saturday 6 November, 10:00", "UTC+1"),
    # New York: EST -> EDT on Sun 14 Mar 2027, back on Sun 7 Nov 2027.
    ("America/New_York", utc(2027, 3, 13, 15), "Saturday 13 March, 10:00", "UTC−5"),
    ("America/New_York", utc(2027, 3, 20, 15), "Saturday 20 March, 11:00", "UTC−4"),
    ("America/New_York", utc(2027, 11, 6, 15), "Saturday 6 November, 11:00", "UTC−4"),
    ("America/New_York", utc(2027, 11, 13, 15), "Saturday 13 November, 10:00", "UTC−5"),
]


@pytest.mark.parametrize(("zone", "instant", "shown", "offset"), DST_CASES)
def test_meeting_time_across_2027_dst_changes(
    zone: str, instant: datetime, shown: str, offset: str
) -> None:
    assert format_meeting_time(instant, zone, "en") == shown
    assert format_utc_offset(instant, zone) == offset


@pytest.mark.parametrize(
    ("zone", "before", "after", "clock_before", "clock_after"),
    [
        # The minute either side of each transition instant.
        ("Australia/Sydney", utc(2027, 4, 3, 15, 59), utc(2027, 4, 3, 16), "02:59", "02:00"),
        ("Australia/Sydney", utc(2027, 10, 2, 15, 59), utc(2027, 10, 2, 16), "01:59", "03:00"),
        ("Europe/Berlin", utc(2027, 3, 28, 0, 59), utc(2027, 3, 28, 1), "01:59", "03:00"),
        ("Europe/Berlin", utc(2027, 10, 31, 0, 59), utc(2027, 10, 31, 1), "02:59", "02:00"),
        ("America/New_York", utc(2027, 3, 14, 6, 59), utc(2027, 3, 14, 7), "01:59", "03:00"),
        ("America/New_York", utc(2027, 11, 7, 5, 59), utc(2027, 11, 7, 6), "01:59", "01:00"),
    ],
)
def test_clock_jumps_at_transition_instants(
    zone: str, before: datetime, after: datetime, clock_before: str, clock_after: str
) -> None:
    assert format_clock_now(before, zone, "en") == f"{clock_before}, Sunday"
    assert format_clock_now(after, zone, "en") == f"{clock_after}, Sunday"
    assert format_utc_offset(before, zone) != format_utc_offset(after, zone)


# --- formatting in ru / en / zh --------------------------------------------------------------

MEETING = utc(2027, 1, 16, 7)  # Saturday; 10:00 in Moscow


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ru", "суббота, 16 января, 10:00"),
        ("en", "Saturday 16 January, 10:00"),
        ("zh", "1月16日星期六 10:00"),
        ("en-US", "Saturday, January 16, 10:00"),  # explicit US English keeps month first
        ("xx", "Saturday 16 January, 10:00"),  # unknown codes fall back to English
    ],
)
def test_format_meeting_time(locale: str, expected: str) -> None:
    assert format_meeting_time(MEETING, "Europe/Moscow", locale) == expected


def test_format_meeting_time_with_year() -> None:
    assert format_meeting_time(MEETING, "Europe/Moscow", "ru", with_year=True) == (
        "суббота, 16 января 2027\u202fг., 10:00"  # CLDR puts a narrow no-break space
    )
    assert format_meeting_time(MEETING, "Asia/Shanghai", "zh", with_year=True) == (
        "2027年1月16日星期六 15:00"
    )


def test_format_meeting_time_crosses_the_date_line() -> None:
    # Saturday 07:00 UTC is already Saturday evening in Vladivostok, still Friday in LA.
    assert format_meeting_time(MEETING, "Asia/Vladivostok", "ru") == "суббота, 16 января, 17:00"
    assert format_meeting_time(MEETING, "America/Los_Angeles", "en") == "Friday 15 January, 23:00"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("ru", "14:32, суббота"), ("en", "14:32, Saturday"), ("zh", "星期六 14:32")],
)
def test_format_clock_now(locale: str, expected: str) -> None:
    assert format_clock_now(utc(2027, 1, 16, 6, 32), "Asia/Shanghai", locale) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Vladivostok", "UTC+10"),
        ("America/New_York", "UTC−5"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("Asia/Kathmandu", "UTC+5:45"),
        ("America/St_Johns", "UTC−3:30"),
        ("Europe/London", "UTC+0"),
    ],
)
def test_format_utc_offset(zone: str, expected: str) -> None:
    assert format_utc_offset(MEETING, zone) == expected


def test_to_local_requires_aware_input_and_known_zone() -> None:
    assert to_local(MEETING, "Asia/Shanghai").hour == 15
    with pytest.raises(ValueError, match="timezone-aware"):
        to_local(datetime(2027, 1, 16, 7), "Asia/Shanghai")
    with pytest.raises(ValueError, match="unknown time zone"):
        to_local(MEETING, "Asia/Atlantis")


# --- availability hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-20", (600, 1200)),
        ("9–21", (540, 1260)),
        ("09:00-21:00", (540, 1260)),
        ("10 - 20", (600, 1200)),
        ("9.30—18.15", (570, 1095)),
        ("8 до 12", (480, 720)),
        ("0-24", (0, 1440)),
        ("22-02", (1320, 120)),  # crosses midnight
        ("23:30-0", (1410, 0)),
    ],
)
def test_parse_hours(text: str, expected: tuple[int, int]) -> None:
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25-30", "not a time of day"),
        ("10-25", "not a time of day"),
        ("24-02", "not a time of day"),
        ("10:60-12", "minutes"),
        ("abc", "expected a range"),
        ("", "expected a range"),
        ("10-", "expected a range"),
        ("10-10", "same time"),
        ("09:00-9", "same time"),
    ],
)
def test_parse_hours_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_hours(text)


def test_format_hours() -> None:
    assert format_hours(540, 1260) == "09:00–21:00"
    assert format_hours(*parse_hours("22-02")) == "22:00–02:00"
    assert format_hours(0, 1440) == "00:00–24:00"
    with pytest.raises(ValueError):
        format_hours(1440, 60)


def test_hours_contain_handles_midnight() -> None:
    assert hours_contain(540, 1260, 600)
    assert not hours_contain(540, 1260, 1260)
    assert hours_contain(1320, 120, 1380)
    assert hours_contain(1320, 120, 60)
    assert not hours_contain(1320, 120, 600)


# --- wall-clock input -----------------------------------------------------------------------


def test_parse_local_datetime_plain() -> None:
    assert parse_local_datetime("2027-01-16", "10:00", "Europe/Moscow") == utc(2027, 1, 16, 7)
    assert parse_local_datetime("04.04.2027", "10:00", "Australia/Sydney") == utc(2027, 4, 4, 0)
    assert parse_local_datetime("2028-02-29", "9:30", "Asia/Shanghai") == utc(2028, 2, 29, 1, 30)


@pytest.mark.parametrize(
    ("zone", "day", "clock", "earlier", "later"),
    [
        ("Europe/Berlin", "2027-03-28", "02:30", utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30)),
        (
            "America/New_York",
            "2027-03-14",
            "02:30",
            utc(2027, 3, 14, 6, 30),
            utc(2027, 3, 14, 7, 30),
        ),
        (
            "Australia/Sydney",
            "2027-10-03",
            "02:30",
            utc(2027, 10, 2, 15, 30),
            utc(2027, 10, 2, 16, 30),
        ),
    ],
)
def test_nonexistent_local_time(
    zone: str, day: str, clock: str, earlier: datetime, later: datetime
) -> None:
    with pytest.raises(NonexistentLocalTime, match="does not exist") as info:
        parse_local_datetime(day, clock, zone)
    assert (info.value.earlier, info.value.later) == (earlier, later)
    assert info.value.zone == zone
    # `later` is the usual "push forward" reading: 02:30 becomes 03:30 summer time.
    assert to_local(info.value.later, zone).strftime("%H:%M") == "03:30"


@pytest.mark.parametrize(
    ("zone", "day", "clock", "earlier", "later"),
    [
        (
            "Europe/Berlin",
            "2027-10-31",
            "02:30",
            utc(2027, 10, 31, 0, 30),
            utc(2027, 10, 31, 1, 30),
        ),
        (
            "America/New_York",
            "2027-11-07",
            "01:30",
            utc(2027, 11, 7, 5, 30),
            utc(2027, 11, 7, 6, 30),
        ),
        (
            "Australia/Sydney",
            "2027-04-04",
            "02:30",
            utc(2027, 4, 3, 15, 30),
            utc(2027, 4, 3, 16, 30),
        ),
    ],
)
def test_ambiguous_local_time(
    zone: str, day: str, clock: str, earlier: datetime, later: datetime
) -> None:
    with pytest.raises(AmbiguousLocalTime, match="occurs twice") as info:
        parse_local_datetime(day, clock, zone)
    assert info.value.candidates == (earlier, later)
    # Both instants really show the typed wall-clock time, with different offsets.
    for instant in info.value.candidates:
        assert to_local(instant, zone).strftime("%Y-%m-%d %H:%M") == f"{day} {clock}"
    assert format_utc_offset(earlier, zone) != format_utc_offset(later, zone)


def test_dst_errors_are_value_errors() -> None:
    assert issubclass(NonexistentLocalTime, LocalTimeError)
    assert issubclass(AmbiguousLocalTime, ValueError)


@pytest.mark.parametrize(
    ("day", "clock", "reason"),
    [
        ("2027-02-30", "10:00", "2027-02-30: day is out of range"),
        ("2027-02-29", "10:00", "day is out of range"),
        ("31.04.2027", "10:00", "day is out of range"),
        ("2027-13-01", "10:00", "month must be in 1..12"),
        ("next friday", "10:00", "expected a date"),
        ("2027-03-01", "24:00", "not a time of day"),
        ("2027-03-01", "10:75", "minutes"),
        ("2027-03-01", "noon", "expected a time"),
    ],
)
def test_parse_local_datetime_rejects_bad_input(day: str, clock: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_local_datetime(day, clock, "Europe/Berlin")


def test_parse_local_datetime_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_local_datetime("2027-03-01", "10:00", "Mars/Olympus")


def test_parse_date_and_time_helpers() -> None:
    assert parse_date(" 2027-3-7 ").isoformat() == "2027-03-07"
    assert parse_time("9").isoformat() == "09:00:00"
    assert parse_time("21.15").isoformat() == "21:15:00"
