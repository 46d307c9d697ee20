"""HTTP validators of a feed (ETag, Last-Modified) from cheap meeting stamps: no rendering."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduling.feeds.calendar import FEED_STRINGS, RENDER_VERSION, FeedKind, Translate


@dataclass(frozen=True)
class MeetingStamp:
    """The few columns that decide a feed's content version (cheap to query)."""

    id: int
    sequence: int
    status: str
    starts_at: datetime
    duration_min: int
    updated_at: datetime


def strings_digest(tr: Translate) -> str:
    """A short fingerprint of the translations one locale's feed uses."""
    joined = "\x1f".join(tr(s) for s in FEED_STRINGS)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


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
