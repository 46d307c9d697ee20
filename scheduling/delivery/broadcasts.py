"""Announcements to all members: queued as outbox rows, counted as they go out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BroadcastReport, Member, OutboxMessage
from scheduling.delivery.sending import BROADCAST_PREFIX


def _recipients():  # type: ignore[no-untyped-def]
    return select(Member.id).where(Member.registered_at.is_not(None), Member.reachable.is_(True))


async def recipients_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(_recipients().subquery())) or 0
    )


async def queue_broadcast(
    session: AsyncSession,
    ref: str,
    text: str,
    *,
    now: datetime,
    report_to: tuple[int, str] | None = None,
) -> int:
    """Queue the broadcast; `report_to` (chat id, locale) is owed the final count.

    Both are committed together: a restart can lose neither the messages nor the report.
    The report's key is the broadcast's ref, so the same broadcast cannot be queued twice
    (a double press, or two instances handling two presses): the second raises
    `AlreadyQueued` and queues nothing.
    """
    body = json.dumps({"text": text}, ensure_ascii=False)
    if report_to is not None:
        chat_id, locale = report_to
        session.add(BroadcastReport(ref=ref, chat_id=chat_id, locale=locale, created_at=now))
        try:
            await session.flush()
        except IntegrityError as exc:
            await session.rollback()
            raise AlreadyQueued(ref) from exc
    ids = list(await session.scalars(_recipients().order_by(Member.id)))
    session.add_all(
        OutboxMessage(member_id=member_id, kind=BROADCAST_PREFIX + ref, due_at=now, payload=body)
        for member_id in ids
    )
    await session.commit()
    return len(ids)


class AlreadyQueued(Exception):
    """This broadcast (its ref) was queued before."""


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


@dataclass(frozen=True)
class FinishedReport:
    ref: str
    chat_id: int
    locale: str
    progress: BroadcastProgress


async def claim_finished_reports(session: AsyncSession, now: datetime) -> list[FinishedReport]:
    """The reports whose broadcast has nothing left to send, each claimed by this caller.

    The claim (setting `finished_at` where it is still empty) succeeds for one instance only,
    so an organiser gets each final count once, also when a restart interrupted the sender.
    """
    claimed: list[FinishedReport] = []
    reports = list(
        await session.scalars(select(BroadcastReport).where(BroadcastReport.finished_at.is_(None)))
    )
    for report in reports:
        progress = await broadcast_progress(session, report.ref)
        if progress.pending:
            continue
        result = await session.execute(
            update(BroadcastReport)
            .where(BroadcastReport.ref == report.ref, BroadcastReport.finished_at.is_(None))
            .values(finished_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(FinishedReport(report.ref, report.chat_id, report.locale, progress))
    await session.commit()
    return claimed


async def release_report(session: AsyncSession, ref: str) -> None:
    """The final count could not be sent: let the next round try again."""
    await session.execute(
        update(BroadcastReport).where(BroadcastReport.ref == ref).values(finished_at=None)
    )
    await session.commit()
