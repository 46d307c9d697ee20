"""Which meetings a calendar feed shows, and when one leaves it.

A feed holds last year's meetings and the coming ones; a cancelled meeting stays until its
time has passed. A meeting whose times the feed cannot compute (a start in year 9999, a
naive datetime, a negative duration) is left out and reported once: bad data costs one
event, never the whole feed.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

# Past meetings older than this leave the feed; keeps it small (well under 1 MB).
PAST_WINDOW = timedelta(days=365)
# How many distinct problems are remembered as already reported (bounds the memory).
REPORTED_LIMIT = 1024


class Timed(Protocol):
    """Enough of a meeting to decide whether it is in the feed window."""

    id: int
    status: str
    starts_at: datetime
    duration_min: int


T = TypeVar("T", bound=Timed)

_reported: set[Hashable] = set()


def report_once(key: Hashable, message: str, *args: object) -> None:
    """Log a problem with one meeting once per process, not on every poll of every feed.

    The caller passes only meeting data (ids, reasons): never a feed token or an address.
    """
    if key in _reported:
        return
    if len(_reported) >= REPORTED_LIMIT:
        _reported.clear()
    _reported.add(key)
    log.warning(message, *args)


def meeting_end(meeting: Timed) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_min)


def unfit_reason(meeting: Timed) -> str | None:
    """Why the feed cannot hold this meeting, or None when it can.

    Checks every computation the feed makes on a meeting's times: UTC start and end, and
    the moment it leaves the window (start + PAST_WINDOW), which overflowed for year 9999.
    """
    start = meeting.starts_at
    if not isinstance(start, datetime) or start.tzinfo is None:
        return "its start time has no time zone"
    if meeting.duration_min < 0:
        return "its duration is negative"
    try:
        end = meeting_end(meeting)
        start.astimezone(UTC)
        end.astimezone(UTC)
        end + PAST_WINDOW
    except OverflowError:
        return "its time lies beyond what a calendar can hold"
    return None


def fits(meeting: Timed) -> bool:
    reason = unfit_reason(meeting)
    if reason is None:
        return True
    report_once(
        ("unfit", meeting.id, meeting.starts_at, meeting.duration_min),
        "meeting %s left out of calendar feeds: %s (starts_at=%r, duration_min=%r)",
        meeting.id,
        reason,
        meeting.starts_at,
        meeting.duration_min,
    )
    return False


def in_window(meeting: Timed, now: datetime) -> bool:
    """Recent and coming meetings; a cancelled one stays until its time has passed."""
    if not fits(meeting):
        return False
    if meeting.status == "cancelled":
        return meeting_end(meeting) > now
    return meeting.starts_at >= now - PAST_WINDOW


def select_meetings(meetings: Iterable[T], now: datetime) -> list[T]:
    chosen = [m for m in meetings if in_window(m, now)]
    chosen.sort(key=lambda m: (m.starts_at, m.id))
    return chosen


def dropped_at(meeting: Timed, now: datetime) -> datetime | None:
    """When a meeting left the feed window, if it has by `now` (None for an unfit one)."""
    if unfit_reason(meeting) is not None:
        return None
    if meeting.status == "cancelled":
        end = meeting_end(meeting)
        return end if end <= now else None
    leaves = meeting.starts_at + PAST_WINDOW
    return leaves if leaves < now else None


def next_departure(meeting: Timed) -> datetime:
    """When a meeting now in the window will leave it (one that fits: see `in_window`)."""
    if meeting.status == "cancelled":
        return meeting_end(meeting)
    return meeting.starts_at + PAST_WINDOW
