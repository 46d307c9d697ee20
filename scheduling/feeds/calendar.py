"""iCalendar (RFC 5545/7986) rendering of club meetings: pure, deterministic, no I/O.

Written by hand rather than with the icalendar package: we need byte-exact control of
folding (75 octets, never inside a UTF-8 character), of property order (stable ETags) and
of speed (feeds are rendered per locale on every data change). The tests parse every feed
with icalendar, vobject and ical.js to keep us honest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from ground.i18n import N_

FeedKind = Literal["private", "public"]
Translate = Callable[[str], str]

# Bump when the output format changes, so cached ETags held by clients go stale.
RENDER_VERSION = "1"
PRODID = "-//Beloved Harbin club//harbin-club-bot 1.0//EN"
REFRESH = "PT6H"
# Past meetings older than this leave the feed; keeps it small (well under 1 MB).
PAST_WINDOW = timedelta(days=365)
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
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
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


class Timed(Protocol):
    """Enough of a meeting to decide whether it is in the feed window."""

    status: str
    starts_at: datetime
    duration_min: int


# --------------------------------------------------------------------------- encoding


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: escape `\\ ; ,` and newlines; drop other control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


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


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where a UTC instant is required")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def safe_url(link: str | None) -> str | None:
    """A URI value is not escaped, so only a plain http(s) URL may go there."""
    if not link:
        return None
    link = link.strip()
    return link if _SAFE_URL.fullmatch(link) else None


# --------------------------------------------------------------------------- selection


def meeting_end(meeting: Timed) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_min)


def in_window(meeting: Timed, now: datetime) -> bool:
    """Recent and coming meetings; a cancelled one stays until its time has passed."""
    if meeting.status == "cancelled":
        return meeting_end(meeting) > now
    return meeting.starts_at >= now - PAST_WINDOW


def select_meetings(meetings: Iterable[MeetingLike], now: datetime) -> list[MeetingLike]:
    chosen = [m for m in meetings if in_window(m, now)]
    chosen.sort(key=lambda m: (m.starts_at, m.id))
    return chosen


# --------------------------------------------------------------------------- rendering


def _summary(meeting: MeetingLike, tr: Translate) -> str:
    theme = (meeting.theme or "").strip()
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
    if kind == "private" and meeting.status != "cancelled":
        link = (meeting.link or "").strip()
        lines.append(tr(LINK_LINE).format(link=link) if link else tr(NO_LINK_LINE))
    return "\n".join(lines)


def render_event(meeting: MeetingLike, tr: Translate, kind: FeedKind) -> bytes:
    cancelled = meeting.status == "cancelled"
    props = [
        "BEGIN:VEVENT",
        "UID:" + escape_text(meeting.uid),
        # DTSTAMP from stored data, not "now": same data, same bytes.
        "DTSTAMP:" + utc_stamp(meeting.updated_at),
        "CREATED:" + utc_stamp(meeting.created_at),
        "LAST-MODIFIED:" + utc_stamp(meeting.updated_at),
        "SEQUENCE:" + str(int(meeting.sequence)),
        "DTSTART:" + utc_stamp(meeting.starts_at),
        "DTEND:" + utc_stamp(meeting_end(meeting)),
        "SUMMARY:" + escape_text(_summary(meeting, tr)),
    ]
    description = _description(meeting, tr, kind)
    if description:
        props.append("DESCRIPTION:" + escape_text(description))
    url = safe_url(meeting.link) if kind == "private" and not cancelled else None
    if url:
        # Google Calendar ignores URL but shows LOCATION as a link.
        props.append("LOCATION:" + escape_text(url))
        props.append("URL:" + url)
    props += [
        "STATUS:" + ("CANCELLED" if cancelled else "CONFIRMED"),
        "TRANSP:" + ("TRANSPARENT" if cancelled else "OPAQUE"),
        "END:VEVENT",
    ]
    return b"".join(fold(p) for p in props)


def render_calendar(
    meetings: Sequence[MeetingLike],
    tr: Translate,
    kind: FeedKind,
    *,
    max_bytes: int = MAX_FEED_BYTES,
) -> bytes:
    """The whole VCALENDAR for the given (already selected) meetings, oldest first.

    If the body would exceed `max_bytes`, the oldest events are left out.
    """
    name = escape_text(tr(CAL_NAME))
    head = b"".join(
        fold(p)
        for p in (
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:" + PRODID,
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "NAME:" + name,
            "X-WR-CALNAME:" + name,
            "DESCRIPTION:" + escape_text(tr(CAL_DESC)),
            "X-WR-CALDESC:" + escape_text(tr(CAL_DESC)),
            "REFRESH-INTERVAL;VALUE=DURATION:" + REFRESH,
            "X-PUBLISHED-TTL:" + REFRESH,
        )
    )
    tail = fold("END:VCALENDAR")
    events = [render_event(m, tr, kind) for m in meetings]
    size = len(head) + len(tail) + sum(len(e) for e in events)
    while events and size > max_bytes:
        size -= len(events.pop(0))
    return head + b"".join(events) + tail


# --------------------------------------------------------------------------- validators


def strings_digest(tr: Translate) -> str:
    """A short fingerprint of the translations one locale's feed uses."""
    joined = "\x1f".join(tr(s) for s in FEED_STRINGS)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class MeetingStamp:
    """The few columns that decide a feed's content version (cheap to query)."""

    id: int
    sequence: int
    status: str
    starts_at: datetime
    duration_min: int
    updated_at: datetime


def feed_etag(stamps: Iterable[MeetingStamp], *, kind: FeedKind, locale: str, strings: str) -> str:
    """Strong ETag from the selected meetings' versions: no rendering needed for a 304.

    Every change to a meeting goes through scheduling.meetings.lifecycle, which sets updated_at;
    id, sequence and status are added so that even a same-second edit shows.
    """
    h = hashlib.sha256()
    h.update(f"{RENDER_VERSION}|{kind}|{locale}|{strings}".encode())
    for s in stamps:
        h.update(
            f"|{s.id}:{s.sequence}:{s.status}:{s.starts_at.isoformat()}:"
            f"{s.duration_min}:{s.updated_at.isoformat()}".encode()
        )
    return '"' + h.hexdigest()[:32] + '"'


def feed_last_modified(
    stamps: Sequence[MeetingStamp], dropped: Iterable[datetime], floor: datetime
) -> datetime:
    """Latest of: any included meeting's change, any meeting leaving the window, `floor`.

    `dropped` holds the instants at which meetings left the feed (so If-Modified-Since
    alone does not hide a removal); `floor` is e.g. the member's own last change.
    """
    moments = [floor, *(s.updated_at for s in stamps), *dropped]
    return max(moments).replace(microsecond=0)


def dropped_at(stamp: Timed, now: datetime) -> datetime | None:
    """When a meeting left the feed window, if it has by `now`."""
    if stamp.status == "cancelled":
        end = meeting_end(stamp)
        return end if end <= now else None
    leaves = stamp.starts_at + PAST_WINDOW
    return leaves if leaves < now else None


def next_departure(stamp: Timed) -> datetime:
    """When a meeting now in the window will leave it."""
    if stamp.status == "cancelled":
        return meeting_end(stamp)
    return stamp.starts_at + PAST_WINDOW


def single_event_filename(meeting: MeetingLike) -> str:
    return "harbin-club-" + meeting.starts_at.astimezone(UTC).strftime("%Y-%m-%d") + ".ics"
