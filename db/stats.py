"""Read-only figures for organisers: who the members are, and how each meeting went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Attendance, Meeting, Member, OutboxMessage, Rsvp

MEMBERS_PER_PAGE = 10
RECENT_MEETINGS = 6


@dataclass(frozen=True)
class MemberBreakdown:
    total: int
    by_country: list[tuple[str | None, int]]  # largest first
    by_zone: list[tuple[str | None, int]]


@dataclass(frozen=True)
class MemberRow:
    name: str | None
    city: str | None
    zone: str | None
    reachable: bool
    place_id: int | None = None
    country: str | None = None


@dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    page: int  # 0-based, clamped into range
    pages: int
    total: int


@dataclass(frozen=True)
class MeetingStats:
    meeting_id: int
    starts_at: datetime
    status: str
    yes: int
    maybe: int
    no: int
    no_answer: int
    reminders_delivered: int
    attended: int = 0  # members who said afterwards that they were there


_registered = Member.registered_at.is_not(None)


async def _counts_by(session: AsyncSession, column) -> list[tuple[str | None, int]]:  # type: ignore[no-untyped-def]
    query = (
        select(column, func.count())
        .where(_registered)
        .group_by(column)
        # NULLS FIRST: SQLite's default, spelled out so PostgreSQL agrees.
        .order_by(func.count().desc(), column.asc().nulls_first())
    )
    return [(key, int(count)) for key, count in (await session.execute(query)).all()]


async def member_breakdown(session: AsyncSession) -> MemberBreakdown:
    by_country = await _counts_by(session, Member.country)
    by_zone = await _counts_by(session, Member.zone)
    return MemberBreakdown(sum(n for _, n in by_country), by_country, by_zone)


async def member_page(
    session: AsyncSession, page: int, per_page: int = MEMBERS_PER_PAGE
) -> MemberPage:
    """One page of registered members by name; a page past the end shows the last one."""
    total = int(await session.scalar(select(func.count()).where(_registered)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    query = (
        select(
            Member.name, Member.city, Member.zone, Member.reachable, Member.place_id, Member.country
        )
        .where(_registered)
        .order_by(func.lower(Member.name), Member.id)
        .offset(page * per_page)
        .limit(per_page)
    )
    rows = [MemberRow(*row) for row in (await session.execute(query)).all()]
    return MemberPage(rows=rows, page=page, pages=pages, total=total)


async def recent_meeting_stats(
    session: AsyncSession, limit: int = RECENT_MEETINGS
) -> list[MeetingStats]:
    """The latest meetings (upcoming included), newest first.

    "No answer" counts members the meeting reached (an outbox row for it: announcement,
    reminder or notice) who gave no RSVP; members who later left are not counted.
    """
    meetings = list(
        await session.scalars(
            select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit)
        )
    )
    if not meetings:
        return []
    ids = [m.id for m in meetings]
    answers: dict[tuple[int, str], int] = {
        (meeting_id, answer): int(n)
        for meeting_id, answer, n in (
            await session.execute(
                select(Rsvp.meeting_id, Rsvp.answer, func.count())
                .where(Rsvp.meeting_id.in_(ids))
                .group_by(Rsvp.meeting_id, Rsvp.answer)
            )
        ).all()
    }
    answered = select(Rsvp.id).where(
        Rsvp.meeting_id == OutboxMessage.meeting_id, Rsvp.member_id == OutboxMessage.member_id
    )
    silent = dict(
        (
            await session.execute(
                select(OutboxMessage.meeting_id, func.count(OutboxMessage.member_id.distinct()))
                .where(OutboxMessage.meeting_id.in_(ids), ~answered.exists())
                .group_by(OutboxMessage.meeting_id)
            )
        ).all()
    )
    delivered = dict(
        (
            await session.execute(
                select(OutboxMessage.meeting_id, func.count())
                .where(
                    OutboxMessage.meeting_id.in_(ids),
                    OutboxMessage.kind.like("remind:%"),
                    OutboxMessage.sent_at.is_not(None),
                )
                .group_by(OutboxMessage.meeting_id)
            )
        ).all()
    )
    attended = dict(
        (
            await session.execute(
                select(Attendance.meeting_id, func.count())
                .where(Attendance.meeting_id.in_(ids), Attendance.attended.is_(True))
                .group_by(Attendance.meeting_id)
            )
        ).all()
    )
    return [
        MeetingStats(
            meeting_id=m.id,
            starts_at=m.starts_at,
            status=m.status,
            yes=answers.get((m.id, "yes"), 0),
            maybe=answers.get((m.id, "maybe"), 0),
            no=answers.get((m.id, "no"), 0),
            no_answer=int(silent.get(m.id, 0)),
            reminders_delivered=int(delivered.get(m.id, 0)),
            attended=int(attended.get(m.id, 0)),
        )
        for m in meetings
    ]
