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
        await session.commit()
    assert member.feed_token is not None
    return member.feed_token


async def reset_token(session: AsyncSession, member: Member) -> str:
    """A new token; the old address stops working as soon as this commits."""
    session.add(member)
    member.feed_token = new_token()
    await session.commit()
    return member.feed_token


async def revoke_token(session: AsyncSession, member: Member) -> None:
    session.add(member)
    member.feed_token = None
    await session.commit()


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


async def meetings_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Meeting]:
    if not ids:
        return []
    rows = await session.scalars(
        select(Meeting).where(Meeting.id.in_(ids)).order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


class DataVersion:
    """A counter raised by every ORM write in this process, before and after its commit.

    The feed server keys its in-memory caches on it, so a 304 needs no query. Raising it
    at the write (flush or UPDATE/DELETE statement) and again after the commit means a
    reader that ran in between cached under a version that is already stale.
    Writes from other processes are not seen: the server's caches also expire by time.
    """

    def __init__(self) -> None:
        self.value = 0
        self._installed = False

    def bump(self) -> None:
        self.value += 1

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        event.listen(Session, "after_flush", self._on_flush)
        event.listen(Session, "do_orm_execute", self._on_execute)
        event.listen(Session, "after_commit", self._on_end)
        event.listen(Session, "after_rollback", self._on_end)

    def _on_flush(self, session: Session, _context: object) -> None:
        session.info["feed_write"] = True
        self.bump()

    def _on_execute(self, state: ORMExecuteState) -> None:
        if not state.is_select:  # ORM UPDATE/DELETE, or text() we cannot read
            state.session.info["feed_write"] = True
            self.bump()

    def _on_end(self, session: Session) -> None:
        if session.info.pop("feed_write", False):
            self.bump()


DATA_VERSION = DataVersion()
