"""Feed rendering: RFC 5545 shape, stable identity, localisation, three parsers agree."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from handlers.i18n import build_i18n
from scheduling.feeds import window
from scheduling.feeds.calendar import build_calendar, build_event, render_calendar
from scheduling.feeds.validators import MeetingStamp, feed_etag
from scheduling.feeds.window import select_meetings
from scheduling.meetings.lifecycle import (
    cancel_meeting,
    create_meeting,
    reschedule_meeting,
    set_link,
)
from tests.ics_parsers import parse_all, with_icaljs

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)
TRICKY = "Семинар; «Харбин», 哈尔滨 \\ back\\slash\nвторая строка 🎉🏮 emoji, end"


@dataclass
class FakeMeeting:
    id: int
    uid: str
    starts_at: datetime
    duration_min: int = 90
    theme: str | None = None
    link: str | None = None
    status: str = "scheduled"
    cancel_reason: str | None = None
    sequence: int = 0
    created_at: datetime = NOW - timedelta(days=30)
    updated_at: datetime = NOW - timedelta(days=2, hours=3)


def meeting(n: int = 1, **kw: object) -> FakeMeeting:
    base = FakeMeeting(id=n, uid=f"m{n}-uid@harbin-club", starts_at=NOW + timedelta(days=7 * n))
    return replace(base, **kw)  # type: ignore[arg-type]


def english(message: str) -> str:
    return message


@pytest.fixture(scope="module")
def i18n():  # type: ignore[no-untyped-def]
    return build_i18n("ru")


def tr_for(i18n, locale: str):  # type: ignore[no-untyped-def]
    return lambda message: i18n.gettext(message, locale=locale)


def unfold(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def sample_feed() -> bytes:
    meetings = [
        meeting(1, theme=TRICKY, link="https://meet.example.org/j/123?pwd=a,b;c"),
        meeting(2, theme="Улицы старого Харбина " * 8),
        meeting(3, status="cancelled", cancel_reason=TRICKY, sequence=1),
    ]
    return render_calendar(meetings, english, "private")


# --------------------------------------------------------------------------- shape


def test_body_framing_line_endings_and_folding() -> None:
    body = sample_feed()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert not body.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in body.replace(b"\r\n", b"")  # no bare LF
    assert b"\r" not in body.replace(b"\r\n", b"")  # no bare CR
    lines = body.split(b"\r\n")[:-1]
    assert all(lines), "blank line in the body"
    assert any(line.startswith(b" ") for line in lines), "the sample must exercise folding"
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # raises if a character was split across lines


def test_calendar_properties() -> None:
    props = unfold(sample_feed())
    head = props[: props.index("BEGIN:VEVENT")]
    assert "VERSION:2.0" in head
    assert any(p.startswith("PRODID:") for p in head)
    assert "NAME:Club «Beloved Harbin»" in head
    assert "X-WR-CALNAME:Club «Beloved Harbin»" in head
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in head
    assert "X-PUBLISHED-TTL:PT6H" in head
    methods = [p for p in props if p.startswith("METHOD")]
    assert methods in ([], ["METHOD:PUBLISH"])
    calendar, _events = with_icaljs(sample_feed())
    assert calendar["refresh-interval"] == "PT6H"
    assert calendar["x-wr-calname"] == "Club «Beloved Harbin»"


def test_event_properties_come_from_stored_data() -> None:
    m = meeting(1, sequence=4, link="https://meet.example.org/x")
    props = unfold(render_calendar([m], english, "private"))
    event = props[props.index("BEGIN:VEVENT") : props.index("END:VEVENT")]
    assert "UID:m1-uid@harbin-club" in event
    assert "DTSTAMP:20270107T083200Z" in event  # updated_at, not the time of rendering
    assert "LAST-MODIFIED:20270107T083200Z" in event
    assert "DTSTART:20270116T113200Z" in event
    assert "DTEND:20270116T130200Z" in event
    assert "SEQUENCE:4" in event
    assert "STATUS:CONFIRMED" in event
    text = "\n".join(props)
    for forbidden in ("VALARM", "ATTENDEE", "ORGANIZER"):
        assert forbidden not in text


def test_same_data_same_bytes() -> None:
    assert sample_feed() == sample_feed()
    stamps = [MeetingStamp(1, 0, "scheduled", NOW, 90, NOW)]
    one = feed_etag(stamps, kind="private", locale="ru", strings="x")
    assert one == feed_etag(list(stamps), kind="private", locale="ru", strings="x")
    assert one != feed_etag(stamps, kind="private", locale="en", strings="x")
    assert one != feed_etag(stamps, kind="public", locale="ru", strings="x")
    bumped = [MeetingStamp(1, 1, "scheduled", NOW, 90, NOW)]
    assert one != feed_etag(bumped, kind="private", locale="ru", strings="x")


GOLDEN = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Beloved Harbin club//harbin-club-bot 1.0//EN\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "METHOD:PUBLISH\r\n"
    "NAME:Club «Beloved Harbin»\r\n"
    "X-WR-CALNAME:Club «Beloved Harbin»\r\n"
    "DESCRIPTION:Meetings of the club «Beloved Harbin». Times follow your cale\r\n"
    " ndar's time zone.\r\n"
    "X-WR-CALDESC:Meetings of the club «Beloved Harbin». Times follow your cal\r\n"
    " endar's time zone.\r\n"
    "REFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n"
    "X-PUBLISHED-TTL:PT6H\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:m1-uid@harbin-club\r\n"
    "DTSTAMP:20270107T083200Z\r\n"
    "CREATED:20261210T113200Z\r\n"
    "LAST-MODIFIED:20270107T083200Z\r\n"
    "SEQUENCE:2\r\n"
    "DTSTART:20270116T113200Z\r\n"
    "DTEND:20270116T130200Z\r\n"
    "SUMMARY:«Beloved Harbin»: Чай\\; кофе\\, 哈尔滨 \\\\ end\r\n"
    "DESCRIPTION:Theme: Чай\\; кофе\\, 哈尔滨 \\\\ end\\nJoin the meeting: \r\n"
    " https://meet.example.org/j/1?a=b\\,c\\;d\r\n"
    "LOCATION:https://meet.example.org/j/1?a=b\\,c\\;d\r\n"
    "URL:https://meet.example.org/j/1?a=b,c;d\r\n"
    "STATUS:CONFIRMED\r\n"
    "TRANSP:OPAQUE\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
).encode()


def test_output_bytes_are_pinned() -> None:
    """ETags come from the data and RENDER_VERSION, not from the bytes: if an icalendar
    upgrade changes these bytes, check the three parsers, raise RENDER_VERSION (or a
    client's cached ETag would name different bytes) and update GOLDEN."""
    m = meeting(1, theme="Чай; кофе, 哈尔滨 \\ end", link="https://meet.example.org/j/1?a=b,c;d")
    assert render_calendar([replace(m, sequence=2)], english, "private") == GOLDEN


# --------------------------------------------------------------------------- content


def test_tricky_text_round_trips_in_three_parsers() -> None:
    events = parse_all(sample_feed())
    first, _second, cancelled = events
    assert first["summary"] == f"«Beloved Harbin»: {TRICKY}"
    assert f"Theme: {TRICKY}" in first["description"]
    assert first["url"] == "https://meet.example.org/j/123?pwd=a,b;c"
    assert "Join the meeting: https://meet.example.org/j/123?pwd=a,b;c" in first["description"]
    assert cancelled["description"].startswith(f"The meeting is cancelled. Reason: {TRICKY}")


def test_a_backslash_before_n_stays_a_backslash() -> None:
    # icalendar alone would take `\\N` in a value for a line break.
    theme = "C:\\New\\next \\\\N end\\"
    body = render_calendar([meeting(1, theme=theme)], english, "public")
    assert "SUMMARY:«Beloved Harbin»: C:\\\\New\\\\next \\\\\\\\N end\\\\\r\n".encode() in body
    (event,) = parse_all(body)
    assert event["summary"] == f"«Beloved Harbin»: {theme}"
    assert event["description"] == f"Theme: {theme}"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))
def test_any_text_round_trips(theme: str) -> None:
    theme = theme.strip() or "x"
    body = render_calendar([meeting(1, theme=theme)], english, "public")
    from tests.ics_parsers import with_icalendar, with_vobject

    for parsed in (with_icalendar(body), with_vobject(body)):
        assert parsed[0]["summary"] == f"«Beloved Harbin»: {theme}"
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        line.decode("utf-8")


@pytest.mark.parametrize("shift", range(4))
def test_fold_keeps_escapes_and_characters_whole(shift: int) -> None:
    # Escaped backslashes (`\\`) at every offset: icalendar's own folding cuts one in two.
    theme = "x" * shift + "а;" * 20 + "\\" * 41 + "哈" * 30 + "🎉" * 20
    body = render_calendar([meeting(1, theme=theme)], english, "public")
    lines = body.split(b"\r\n")[:-1]
    for physical in lines:
        assert len(physical) <= 75
        backslashes = len(physical) - len(physical.rstrip(b"\\"))
        assert backslashes % 2 == 0, f"a line ends inside an escape: {physical!r}"
        physical.decode("utf-8")
    assert sum(line.startswith(b" ") for line in lines) > 5
    assert parse_all(body)[0]["summary"] == f"«Beloved Harbin»: {theme}"


def test_output_is_icalendars_own_but_for_folding() -> None:
    meetings = [
        meeting(1, theme=TRICKY, link="https://meet.example.org/j/123?pwd=a,b;c"),
        meeting(2, status="cancelled", cancel_reason="снег", sequence=3),
    ]
    calendar = build_calendar(english)
    for m in meetings:
        calendar.add_component(build_event(m, english, "private"))
    own = calendar.to_ical(sorted=False)
    assert unfold(render_calendar(meetings, english, "private")) == unfold(own)


def test_public_feed_never_carries_links() -> None:
    link = "https://meet.example.org/secret-room"
    body = render_calendar([meeting(1, link=link, theme="t")], english, "public")
    assert b"secret-room" not in body
    assert b"URL:" not in body
    assert parse_all(body)[0]["url"] is None


def test_cancelled_meeting_stays_until_its_time_has_passed() -> None:
    cancelled = meeting(1, status="cancelled", sequence=2, theme="Чай")
    assert select_meetings([cancelled], NOW) == [cancelled]
    event = parse_all(render_calendar([cancelled], english, "private"))[0]
    assert event["status"] == "CANCELLED"
    assert event["summary"] == "Cancelled: «Beloved Harbin»: Чай"
    assert event["url"] is None
    after = cancelled.starts_at + timedelta(minutes=cancelled.duration_min, seconds=1)
    assert select_meetings([cancelled], after) == []


def test_window_keeps_last_year_and_upcoming_only() -> None:
    old = meeting(1, starts_at=NOW - timedelta(days=400))
    recent = meeting(2, starts_at=NOW - timedelta(days=300))
    coming = meeting(3, starts_at=NOW + timedelta(days=30))
    assert select_meetings([coming, old, recent], NOW) == [recent, coming]


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """The feed's warnings about bad meetings, starting from none reported yet."""
    monkeypatch.setattr(window, "_reported", set())
    caplog.set_level(logging.WARNING, logger="scheduling.feeds")
    return lambda: [r.getMessage() for r in caplog.records if r.name.startswith("scheduling.feeds")]


def test_meetings_the_feed_cannot_hold_are_left_out_once(reports) -> None:  # type: ignore[no-untyped-def]
    good = meeting(1)
    far = meeting(2, starts_at=datetime(9999, 12, 31, 6, 0, tzinfo=UTC))
    naive = meeting(3, starts_at=datetime(2027, 2, 1, 10, 0))
    backwards = meeting(4, duration_min=-30)
    beyond_end = meeting(5, starts_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    everything = [far, naive, good, backwards, beyond_end]
    assert select_meetings(everything, NOW) == [good]
    assert select_meetings(everything, NOW + timedelta(hours=1)) == [good]
    messages = reports()
    assert len(messages) == 4, messages
    for n in (2, 3, 4, 5):
        assert sum(f"meeting {n} left out" in m for m in messages) == 1


def test_one_meeting_that_cannot_be_rendered_leaves_the_rest(reports) -> None:  # type: ignore[no-untyped-def]
    broken = meeting(2, created_at=datetime(2026, 12, 1))  # naive: no UTC instant
    odd_text = meeting(3, theme="lone \ud800 surrogate \x00\x1b bell")
    body = render_calendar([meeting(1), broken, odd_text], english, "private")
    events = parse_all(body)
    assert [e["uid"] for e in events] == ["m1-uid@harbin-club", "m3-uid@harbin-club"]
    assert events[1]["summary"] == "«Beloved Harbin»: lone \ufffd surrogate  bell"
    render_calendar([broken], english, "public")
    (message,) = reports()
    assert "meeting 2 left out of calendar feeds: cannot render it (ValueError" in message


def test_feed_stays_under_the_size_limit() -> None:
    many = [
        meeting(n, theme="哈尔滨 " * 200, starts_at=NOW + timedelta(days=n)) for n in range(1, 121)
    ]
    body = render_calendar(many, english, "private")
    assert len(body) < 1_000_000
    capped = render_calendar(many, english, "private", max_bytes=50_000)
    assert len(capped) <= 50_000
    uids = re.findall(rb"UID:(m\d+)-uid", capped)
    assert uids and uids[-1] == b"m120"  # the oldest events were left out


@pytest.mark.parametrize(
    ("locale", "summary", "prefix"),
    [
        ("ru", "Встреча клуба «Любимый Харбин»", "Отменена: "),
        ("zh", "“亲爱的哈尔滨”俱乐部聚会", "已取消："),
        ("en", "«Beloved Harbin» club meeting", "Cancelled: "),
    ],
)
def test_event_text_in_the_members_language(i18n, locale, summary, prefix) -> None:  # type: ignore[no-untyped-def]
    meetings = [meeting(1), meeting(2, status="cancelled")]
    events = parse_all(render_calendar(meetings, tr_for(i18n, locale), "private"))
    assert events[0]["summary"] == summary
    assert events[1]["summary"] == prefix + summary


# --------------------------------------------------------------------------- with the database


async def test_reschedule_and_cancel_keep_uid_and_raise_sequence(database_url: str) -> None:
    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            m = await create_meeting(session, NOW + timedelta(days=10), now=NOW, theme="Чай")
            await session.commit()
            first = parse_all(render_calendar([m], english, "private"))[0]
            await set_link(session, m, "https://meet.example.org/a", now=NOW)
            await session.commit()
            await reschedule_meeting(
                session, m, NOW + timedelta(days=11), now=NOW + timedelta(hours=1)
            )
            await session.commit()
            second = parse_all(render_calendar([m], english, "private"))[0]
            await cancel_meeting(session, m, "снег; буря", now=NOW + timedelta(hours=2))
            await session.commit()
            third = parse_all(render_calendar([m], english, "private"))[0]
    finally:
        await engine.dispose()
    assert first["uid"] == second["uid"] == third["uid"]
    assert first["sequence"] < second["sequence"] < third["sequence"]
    assert second["dtstart"] == "2027-01-20T11:32:00Z"
    assert second["url"] == "https://meet.example.org/a"
    assert third["status"] == "CANCELLED"
    assert "снег; буря" in third["description"]
