"""The monthly workflow's own rows: days members cannot make, and the claim that sends
next month's plan once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, MemberUnavailableDate, MonthlyPlanRun


async def toggle_unavailable_days(
    session: AsyncSession, member: Member, days: list[date]
) -> tuple[list[date], list[date]]:
    """Each day given is added if new, removed if already marked. Returns (added, removed)."""
    marked = set(
        await session.scalars(
            select(MemberUnavailableDate.day).where(MemberUnavailableDate.member_id == member.id)
        )
    )
    added, removed = [], []
    for day in sorted(set(days)):
        if day in marked:
            await session.execute(
                delete(MemberUnavailableDate).where(
                    MemberUnavailableDate.member_id == member.id,
                    MemberUnavailableDate.day == day,
                )
            )
            removed.append(day)
        else:
            session.add(MemberUnavailableDate(member_id=member.id, day=day))
            added.append(day)
    await session.flush()
    return added, removed


async def unavailable_days_from(session: AsyncSession, member: Member, first: date) -> list[date]:
    query = (
        select(MemberUnavailableDate.day)
        .where(MemberUnavailableDate.member_id == member.id, MemberUnavailableDate.day >= first)
        .order_by(MemberUnavailableDate.day)
    )
    return list(await session.scalars(query))


async def claim_monthly_plan(session: AsyncSession, month: str, now: datetime) -> bool:
    """True for the one caller (of any instance) that may send this month's plan."""
    session.add(MonthlyPlanRun(month=month, sent_at=now))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    return True
