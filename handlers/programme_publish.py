"""After the programme domain changed a programme, the meetings domain publishes it: the
copy members, calendars and the club chat read, and one notice per burst of changes.

Both domains are called from here (and only the interfaces may call both): every handler
that changes a programme ends with `publish`, in the same transaction as its change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting
from programme import slots
from scheduling.meetings import agenda


async def publish(
    session: AsyncSession, meeting_ids: Iterable[int | None], *, now: datetime
) -> None:
    for meeting_id in sorted({m for m in meeting_ids if m is not None}):
        meeting = await session.get(Meeting, meeting_id)
        if meeting is None:
            continue
        items = await slots.published_items(session, meeting_id)
        over = meeting.starts_at + timedelta(minutes=meeting.duration_min) <= now
        if meeting.status != "scheduled" or over:
            await agenda.rewrite_programme(session, meeting, items, now=now)
        else:
            await agenda.set_programme(session, meeting, items, now=now)


async def release_programme(session: AsyncSession, meeting_id: int, *, now: datetime) -> None:
    """After a cancellation: its talks go back to the queue (speakers are told), and the
    cancelled meeting's published programme empties."""
    if await slots.release_cancelled(session, meeting_id, now=now):
        await publish(session, [meeting_id], now=now)
