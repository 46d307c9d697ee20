"""iCalendar (RFC 5545/7986) rendering of club meetings with the icalendar package: pure,
deterministic (same meetings, same bytes), no I/O.

icalendar builds the components and encodes every value (text escaping, UTC times,
durations, parameters); properties keep the order we add them in (`sorted=False`). The
content lines are folded here, not by icalendar: its folding may cut an escaped backslash
(`\\\\`) in two, and some parsers unescape before they unfold. The tests parse every feed
with icalendar, vobject and ical.js.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from icalendar import Calendar, Component, Event
from icalendar.prop import vDuration, vText, vUri

from ground.i18n import N_
from scheduling.feeds.window import meeting_end, report_once
from scheduling.meetings.agenda import items_of
from scheduling.meetings.event_text import KIND_LABELS

FeedKind = Literal["private", "public"]
Translate = Callable[[str], str]

# Bump when the output format changes, so cached ETags held by clients go stale.
# 2: special events (title, place) and the programme in DESCRIPTION.
RENDER_VERSION = "2"
PRODID = "-//Beloved Harbin club//harbin-club-bot 1.0//EN"
REFRESH = timedelta(hours=6)
MAX_FEED_BYTES = 1_000_000
CRLF = b"\r\n"

CAL_NAME = N_("Club «Beloved Harbin»")
CAL_DESC = N_("Meetings of the club «Beloved Harbin». Times follow your calendar's time zone.")
SUMMARY = N_("«Beloved Harbin» club meeting")
SUMMARY_THEME = N_("«Beloved Harbin»: {theme}")
CANCELLED_PREFIX = N_("Cancelled: {summary}")
THEME_LINE = N_("Theme: {theme}")
LINK_LINE = N_("Join the meeting: {link}")
NO_LINK_LINE = N_("The link to join will be sent by the bot before the meeting.")
REASON_LINE = N_("The meeting is cancelled. Reason: {reason}")
CANCELLED_LINE = N_("The meeting is cancelled.")
PLACE_LINE = N_("Place: {place}")
PROGRAMME_HEAD = N_("Programme:")
# No clock times: the reader's calendar shows the event in its own zone, the text cannot.
PROGRAMME_ITEM = N_("{number}. {title} — {speaker} ({minutes} min)")
PROGRAMME_ITEM_ANONYMOUS = N_("{number}. {title} ({minutes} min)")

# Every string the feed uses: their translations go into the ETag (a catalog change
# must reach clients even when no meeting changed).
FEED_STRINGS = (
    CAL_NAME,
    CAL_DESC,
    SUMMARY,
    SUMMARY_THEME,
    CANCELLED_PREFIX,
    THEME_LINE,
    LINK_LINE,
    NO_LINK_LINE,
    REASON_LINE,
    CANCELLED_LINE,
    PLACE_LINE,
    PROGRAMME_HEAD,
    PROGRAMME_ITEM,
    PROGRAMME_ITEM_ANONYMOUS,
    *KIND_LABELS.values(),
)

# Control characters are not allowed in TEXT values (tab is); lone surrogates cannot be
# encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SAFE_URL = re.compile(r"https?://[^\s\"<>\\^`{|}\x00-\x1f\x7f]+")


class MeetingLike(Protocol):
    """What rendering needs of a meeting (db.models.Meeting satisfies it)."""

    id: int
    uid: str
    starts_at: datetime
    duration_min: int
    theme: str | None
    link: str | None
    status: str
    cancel_reason: str | None
    sequence: int
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- encoding


class Text(vText):
    """TEXT escaped by icalendar, except that a backslash before `N` stays a backslash.

    icalendar takes `\\N` in a value for a line break (its shorthand), so a theme such as
    `C:\\New` would lose its backslash and gain a line; each stretch between such pairs
    is escaped by icalendar, and the pair itself as an escaped backslash and an `N`.
    """

    def to_ical(self) -> bytes:
        return b"\\\\N".join(vText(part).to_ical() for part in str(self).split("\\N"))


def clean_text(value: str) -> Text:
    """Text as a TEXT value may carry it: newlines as `\\n`, no other control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return Text(_SURROGATE.sub("\ufffd", _CONTROL.sub("", value)))


def fold(line: str) -> bytes:
    """One content line, folded at 75 octets without splitting a UTF-8 character."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return raw + CRLF
    parts: list[bytes] = []
    start, limit = 0, 75  # the first line holds 75 octets; continuations a space plus 74
    while len(raw) - start > limit:
        cut = start + limit
        while raw[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back off
            cut -= 1
        # Keep an escape such as `\;` on one line: unfolding would rejoin it, but some
        # parsers unescape before unfolding. An odd run of backslashes opens an escape.
        run = 0
        while cut - run - 1 >= start and raw[cut - run - 1] == 0x5C:
            run += 1
        if run % 2:
            cut -= 1
        parts.append(raw[start:cut])
        start, limit = cut, 74
    parts.append(raw[start:])
    return b"\r\n ".join(parts) + CRLF


def serialize(component: Component) -> bytes:
    """A component (and its subcomponents) as folded content lines, in insertion order."""
    return b"".join(fold(line) for line in component.content_lines(sorted=False) if line)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where a UTC instant is required")
    return moment.astimezone(UTC)


def safe_url(link: str | None) -> str | None:
    """A URI value is not escaped, so only a plain http(s) URL may go there."""
    if not link:
        return None
    link = link.strip()
    return link if _SAFE_URL.fullmatch(link) else None


# --------------------------------------------------------------------------- rendering


def _kind(meeting: MeetingLike) -> str:
    return getattr(meeting, "kind", None) or "monthly"  # older rows and test doubles


def _summary(meeting: MeetingLike, tr: Translate) -> str:
    theme = (meeting.theme or "").strip()
    if _kind(meeting) != "monthly":  # a special event goes by its title, or its kind
        title = (getattr(meeting, "title", None) or "").strip()
        theme = title or tr(KIND_LABELS.get(_kind(meeting), KIND_LABELS["event"]))
    summary = tr(SUMMARY_THEME).format(theme=theme) if theme else tr(SUMMARY)
    if meeting.status == "cancelled":
        summary = tr(CANCELLED_PREFIX).format(summary=summary)
    return summary


def _description(meeting: MeetingLike, tr: Translate, kind: FeedKind) -> str:
    lines: list[str] = []
    if meeting.status == "cancelled":
        reason = (meeting.cancel_reason or "").strip()
        lines.append(tr(REASON_LINE).format(reason=reason) if reason else tr(CANCELLED_LINE))
    theme = (meeting.theme or "").strip()
    if theme:
        lines.append(tr(THEME_LINE).format(theme=theme))
    place = _place(meeting, kind)
    if place:
        lines.append(tr(PLACE_LINE).format(place=place))
    lines += _programme(meeting, tr)
    if kind == "private" and meeting.status != "cancelled":
        link = (meeting.link or "").strip()
        if link:
            lines.append(tr(LINK_LINE).format(link=link))
        elif not place:
            lines.append(tr(NO_LINK_LINE))
    return "\n".join(lines)


def _place(meeting: MeetingLike, kind: FeedKind) -> str:
    """Where an event is held in person: like the link, only in a member's own feed."""
    if kind != "private" or meeting.status == "cancelled":
        return ""
    return (getattr(meeting, "place", None) or "").strip()


def _programme(meeting: MeetingLike, tr: Translate) -> list[str]:
    items = items_of(meeting)
    if not items:
        return []
    lines = [tr(PROGRAMME_HEAD)]
    for number, item in enumerate(items, 1):
        template = PROGRAMME_ITEM if item.speaker else PROGRAMME_ITEM_ANONYMOUS
        lines.append(
            tr(template).format(
                number=number, title=item.title, speaker=item.speaker, minutes=item.minutes
            )
        )
    return lines


def build_event(meeting: MeetingLike, tr: Translate, kind: FeedKind) -> Event:
    cancelled = meeting.status == "cancelled"
    event = Event()
    event.add("uid", clean_text(meeting.uid))  # fixed: the same in every feed, forever
    # DTSTAMP from stored data, not "now": same data, same bytes.
    event.add("dtstamp", utc(meeting.updated_at))
    event.add("created", utc(meeting.created_at))
    event.add("last-modified", utc(meeting.updated_at))
    event.add("sequence", int(meeting.sequence))
    event.add("dtstart", utc(meeting.starts_at))
    event.add("dtend", utc(meeting_end(meeting)))
    event.add("summary", clean_text(_summary(meeting, tr)))
    description = _description(meeting, tr, kind)
    if description:
        event.add("description", clean_text(description))
    url = safe_url(meeting.link) if kind == "private" and not cancelled else None
    if url:
        # Google Calendar ignores URL but shows LOCATION as a link.
        event.add("location", Text(url))
        event.add("url", vUri(url))
    elif place := _place(meeting, kind):
        event.add("location", clean_text(place))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def render_event(meeting: MeetingLike, tr: Translate, kind: FeedKind) -> bytes:
    return serialize(build_event(meeting, tr, kind))


def build_calendar(tr: Translate) -> Calendar:
    """The VCALENDAR and its properties, without events."""
    calendar = Calendar()
    name = clean_text(tr(CAL_NAME))
    description = clean_text(tr(CAL_DESC))
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("description", description)
    calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _event_or_none(meeting: MeetingLike, tr: Translate, kind: FeedKind) -> bytes | None:
    """One event's bytes; a meeting that cannot be rendered is left out and reported."""
    try:
        return render_event(meeting, tr, kind)
    except Exception as exc:  # one bad row must not take every member's feed down
        report_once(
            ("render", meeting.id, meeting.updated_at, type(exc).__name__),
            "meeting %s left out of calendar feeds: cannot render it (%s: %s)",
            meeting.id,
            type(exc).__name__,
            exc,
        )
        return None


def render_calendar(
    meetings: Sequence[MeetingLike],
    tr: Translate,
    kind: FeedKind,
    *,
    max_bytes: int = MAX_FEED_BYTES,
) -> bytes:
    """The whole VCALENDAR for the given (already selected) meetings, oldest first.

    Events are serialised one by one, so a meeting that fails is left out alone. If the
    body would exceed `max_bytes`, the oldest events are left out.
    """
    whole = serialize(build_calendar(tr))
    tail = fold("END:VCALENDAR")
    head = whole.removesuffix(tail)  # the events go between the properties and the end
    events = [e for e in (_event_or_none(m, tr, kind) for m in meetings) if e is not None]
    size = len(head) + len(tail) + sum(len(e) for e in events)
    while events and size > max_bytes:
        size -= len(events.pop(0))
    return head + b"".join(events) + tail


def single_event_filename(meeting: MeetingLike) -> str:
    return "harbin-club-" + meeting.starts_at.astimezone(UTC).strftime("%Y-%m-%d") + ".ics"
