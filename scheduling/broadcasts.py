"""Announcements to all members: queued as outbox rows, counted as they go out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, OutboxMessage
from scheduling.delivery import BROADCAST_PREFIX


def _recipients():  # type: ignore[no-untyped-def]
    return select(Member.id).where(Member.registered_at.is_not(None), Member.reachable.is_(True))


async def recipients_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(_recipients().subquery())) or 0
    )


async def queue_broadcast(session: AsyncSession, ref: str, text: str, *, now: datetime) -> int:
    body = json.dumps({"text": text}, ensure_ascii=False)
    ids = list(await session.scalars(_recipients().order_by(Member.id)))
    session.add_all(
        OutboxMessage(member_id=member_id, kind=BROADCAST_PREFIX + ref, due_at=now, payload=body)
        for member_id in ids
    )
    await session.commit()
    return len(ids)


@dataclass(frozen=True)
class BroadcastProgress:
    total: int
    delivered: int
    blocked: int
    failed: int

    @property
    def pending(self) -> int:
        return self.total - self.delivered - self.blocked - self.failed


async def broadcast_progress(session: AsyncSession, ref: str) -> BroadcastProgress:
    kind = BROADCAST_PREFIX + ref
    rows = (
        await session.execute(
            select(
                OutboxMessage.sent_at.is_not(None), OutboxMessage.dropped, OutboxMessage.last_error
            ).where(OutboxMessage.kind == kind)
        )
    ).all()
    delivered = sum(1 for sent, _, _ in rows if sent)
    blocked = sum(
        1
        for sent, dropped, err in rows
        if dropped and not sent and (err or "").startswith("blocked")
    )
    failed = sum(
        1
        for sent, dropped, err in rows
        if dropped and not sent and not (err or "").startswith("blocked")
    )
    return BroadcastProgress(total=len(rows), delivered=delivered, blocked=blocked, failed=failed)
