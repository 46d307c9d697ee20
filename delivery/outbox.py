"""Claiming and settling outbox rows. A claim is a lease, so a dead sender's rows return.

These add and flush; the caller (the delivery tick) commits each step itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, OutboxMessage

LEASE = timedelta(seconds=60)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.dropped.is_(False),
        OutboxMessage.due_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


async def claim_due(
    session: AsyncSession, now: datetime, *, limit: int = 100, lease: timedelta = LEASE
) -> list[int]:
    """Take up to `limit` due rows for this sender, oldest first (commit to hold them)."""
    query = (
        select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.due_at, OutboxMessage.id)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Several instances: each row goes to exactly one of them.
        query = query.with_for_update(skip_locked=True)
    ids = list(await session.scalars(query.limit(limit)))
    if ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=now + lease)
        )
    return ids


async def mark_sent(session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            sent_at=now, claimed_until=None, attempts=OutboxMessage.attempts + 1, last_error=None
        )
    )


async def mark_retry(session: AsyncSession, row_id: int, error: str, retry_at: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            due_at=retry_at,
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:500],
        )
    )


async def mark_dropped(session: AsyncSession, row_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(dropped=True, claimed_until=None, last_error=error[:500])
    )


async def drop_unsent_for_member(session: AsyncSession, member_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.member_id == member_id, OutboxMessage.sent_at.is_(None))
        .values(dropped=True, claimed_until=None, last_error=error[:500])
    )


async def release_claims(session: AsyncSession) -> int:
    """Single-process start: claims left by a killed run are ours to retake at once."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def pending_count(session: AsyncSession, now: datetime) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(*_due(now))
    return int(await session.scalar(query) or 0)


async def recipient_chats(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    """Row id -> the chat it goes to (the member's Telegram id, or a note's chat), so that
    a chat's messages go out one at a time and in order."""
    rows = await session.execute(
        select(OutboxMessage.id, Member.telegram_id, OutboxMessage.chat_id)
        .outerjoin(Member, Member.id == OutboxMessage.member_id)
        .where(OutboxMessage.id.in_(ids))
    )
    return {
        row_id: telegram_id if telegram_id is not None else (chat_id or 0)
        for row_id, telegram_id, chat_id in rows
    }
