"""Calendar feed tokens and the cheap queries the feed server runs per request."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from db.models import Meeting, Member
from scheduling.feeds.validators import MeetingStamp
from scheduling.feeds.window import PAST_WINDOW, dropped_at, in_window

# 24 random bytes = 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
# How far back a meeting's departure from the feed still moves Last-Modified; calendar
# apps poll every few hours, so a month is ample.
DROP_HORIZON = timedelta(days=35)
# Members per query when the feed server re-checks the token owners it keeps.
OWNER_BATCH = 500


@dataclass(frozen=True)
class FeedMember:
    """What the feed server needs of the member who owns a token."""

    id: int
    locale: str
    updated_at: datetime


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def ensure_token(session: AsyncSession, member: Member) -> str:
    """The member's feed token, created on first use."""
    if member.feed_token is None:
        session.add(member)  # it may come detached from the member cache
        member.feed_token = new_token()
        await session.flush()
    assert member.feed_token is not None
    return member.feed_token


async def reset_token(session: AsyncSession, member: Member) -> str:
    """A new token; the old address stops working as soon as this commits."""
    session.add(member)
    member.feed_token = new_token()
    await session.flush()
    return member.feed_token


async def revoke_token(session: AsyncSession, member: Member) -> None:
    session.add(member)
    member.feed_token = None
    await session.flush()


def well_formed(token: str) -> bool:
    return TOKEN_SHAPE.fullmatch(token) is not None


async def member_by_token(session: AsyncSession, token: str) -> FeedMember | None:
    """The registered member owning `token`, or None (unknown, revoked or malformed)."""
    if not well_formed(token):
        return None  # never reaches the database
    row = (
        await session.execute(
            select(Member.id, Member.locale, Member.updated_at, Member.feed_token).where(
                Member.feed_token == token, Member.registered_at.is_not(None)
            )
        )
    ).first()
    if row is None:
        return None
    # The index lookup finds the row; the final check is constant-time.
    stored = row.feed_token or ""
    if not hmac.compare_digest(stored.encode(), token.encode()):
        return None
    return FeedMember(id=row.id, locale=row.locale, updated_at=row.updated_at)


async def feed_stamps(
    session: AsyncSession, now: datetime
) -> tuple[list[MeetingStamp], list[datetime]]:
    """Meetings in the feed window (as stamps, oldest first) and recent departure instants."""
    since = now - PAST_WINDOW - DROP_HORIZON
    rows = await session.execute(
        select(
            Meeting.id,
            Meeting.sequence,
            Meeting.status,
            Meeting.starts_at,
            Meeting.duration_min,
            Meeting.updated_at,
        )
        .where(Meeting.starts_at >= since)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    included: list[MeetingStamp] = []
    dropped: list[datetime] = []
    for row in rows:
        stamp = MeetingStamp(*row)
        if in_window(stamp, now):
            included.append(stamp)
        else:
            left = dropped_at(stamp, now)
            if left is not None:
                dropped.append(left)
    return included, dropped


async def feed_owners(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, tuple[str, FeedMember]]:
    """Each of these members' current token and feed details, if registered with a token.

    The feed server re-checks the token owners it keeps in memory with this, a few
    hundred at a time, instead of one query per member.
    """
    found: dict[int, tuple[str, FeedMember]] = {}
    for first in range(0, len(member_ids), OWNER_BATCH):
        rows = await session.execute(
            select(Member.id, Member.locale, Member.updated_at, Member.feed_token).where(
                Member.id.in_(member_ids[first : first + OWNER_BATCH]),
                Member.feed_token.is_not(None),
                Member.registered_at.is_not(None),
            )
        )
        for row in rows:
            found[row.id] = (row.feed_token, FeedMember(row.id, row.locale, row.updated_at))
    return found


async def meetings_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Meeting]:
    if not ids:
        return []
    rows = await session.scalars(
        select(Meeting).where(Meeting.id.in_(ids)).order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


class DataVersion:
    """Counters raised by every ORM write to members or meetings in this process, before
    and after its commit: `members` (feed tokens, locales) and `meetings`.

    The feed server keys its in-memory caches on them, so a 304 needs no query. Raising a
    counter at the write (flush or UPDATE/DELETE statement) and again after the commit
    means a reader that ran in between cached under a value that is already stale. Writes
    to other tables (outbox, memoirs, attendance) leave the feeds' caches alone; a
    statement whose tables cannot be told (text(), a Core INSERT) raises both.
    Other instances' writes arrive through `bump` (Redis news, see bot/runner.py); what
    nobody announces is bounded by the feed server's time limits.
    """

    def __init__(self) -> None:
        self.members = 0
        self.meetings = 0
        self._installed = False

    def bump(self, members: bool = True, meetings: bool = True) -> None:
        if members:
            self.members += 1
        if meetings:
            self.meetings += 1

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        event.listen(Session, "after_flush", self._on_flush)
        event.listen(Session, "do_orm_execute", self._on_execute)
        event.listen(Session, "after_commit", self._on_end)
        event.listen(Session, "after_rollback", self._on_end)

    def _note(self, session: Session, members: bool, meetings: bool) -> None:
        if not (members or meetings):
            return
        written: set[str] = session.info.setdefault(_WRITTEN, set())
        if members:
            written.add("members")
        if meetings:
            written.add("meetings")
        self.bump(members, meetings)

    def _on_flush(self, session: Session, _context: object) -> None:
        # After a flush, new/dirty/deleted still show what it wrote.
        objects = [*session.new, *session.dirty, *session.deleted]
        self._note(
            session,
            any(isinstance(o, Member) for o in objects),
            any(isinstance(o, Meeting) for o in objects),
        )

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_select:
            return
        classes = {mapper.class_ for mapper in state.all_mappers}
        if not classes:  # text(), or a statement on a bare table: cannot tell
            self._note(state.session, True, True)
        else:
            self._note(state.session, Member in classes, Meeting in classes)

    def _on_end(self, session: Session) -> None:
        written = session.info.pop(_WRITTEN, set())
        self.bump("members" in written, "meetings" in written)


_WRITTEN = "feed_written"
DATA_VERSION = DataVersion()
