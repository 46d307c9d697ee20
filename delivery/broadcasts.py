"""Announcements to all members: queued as outbox rows, counted as they go out.

The organiser who sent one watches a progress message and then gets the final count as a
note. Both come from the database, not from a task in one process, so they survive a
restart and come once when several instances deliver.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BroadcastReport, Member, OutboxMessage
from delivery import notes
from delivery.messages import Outgoing
from delivery.ports import Sender, SendError
from ground.i18n import N_, Translator

log = logging.getLogger(__name__)

KIND_PREFIX = "broadcast:"
PROGRESS_EVERY = timedelta(seconds=3)
PROGRESS = N_("Broadcast: {done} of {total} sent so far.")
FINAL_COUNT = N_(
    "Broadcast finished: delivered {delivered}, blocked the bot {blocked}, failed {failed}."
)


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
    club: str = "",
    sender_name: str | None = None,
) -> int:
    """Queue the broadcast; `report_to` (chat id, locale) is owed the final count.

    Both land in the caller's one commit: a restart can lose neither the messages nor the
    report. The report's key is the broadcast's ref, so the same broadcast cannot be queued
    twice (a double press, or two instances handling two presses): the second raises
    `AlreadyQueued` and queues nothing.
    """
    body = json.dumps({"text": text, "club": club, "from": sender_name}, ensure_ascii=False)
    if report_to is not None:
        if await session.get(BroadcastReport, ref) is not None:
            raise AlreadyQueued(ref)
        chat_id, locale = report_to
        session.add(BroadcastReport(ref=ref, chat_id=chat_id, locale=locale, created_at=now))
        try:
            await session.flush()
        except IntegrityError as exc:  # another instance queued it a moment ago
            await session.rollback()  # this update wrote nothing before; nothing else is lost
            raise AlreadyQueued(ref) from exc
    ids = list(await session.scalars(_recipients().order_by(Member.id)))
    session.add_all(
        OutboxMessage(member_id=member_id, kind=KIND_PREFIX + ref, due_at=now, payload=body)
        for member_id in ids
    )
    await session.flush()
    return len(ids)


FROM_THE_CLUB = N_("📢 From the club «{club}»:")
FROM_THE_CLUB_BY = N_("📢 From the club «{club}», sent by {name}:")


def render(i18n: Translator, locale: str, payload: str | None) -> Outgoing:
    """The announcement under a line that says it comes from the club, and from whom."""
    data = json.loads(payload or "{}")
    text = str(data.get("text", ""))
    club = str(data.get("club") or "")
    if not club:  # queued before announcements said where they came from
        return Outgoing(text)
    name = data.get("from")
    header = FROM_THE_CLUB_BY if name else FROM_THE_CLUB
    line = i18n.gettext(header, locale=locale).format(club=club, name=name or "")
    return Outgoing(line + "\n\n" + text)


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
    kind = KIND_PREFIX + ref
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


async def _open_reports(session: AsyncSession) -> list[BroadcastReport]:
    query = select(BroadcastReport).where(BroadcastReport.finished_at.is_(None))
    return list(await session.scalars(query))


async def queue_final_counts(session: AsyncSession, i18n: Translator, now: datetime) -> int:
    """A note with the final count for each broadcast that has nothing left to send.

    Claiming a report (setting `finished_at` where it is still empty) succeeds for one
    caller only, and the note is added in the same transaction: each organiser gets each
    final count once, also across restarts and instances. Returns the notes queued.
    """
    queued = 0
    for report in await _open_reports(session):
        progress = await broadcast_progress(session, report.ref)
        if progress.pending:
            continue
        result = await session.execute(
            update(BroadcastReport)
            .where(BroadcastReport.ref == report.ref, BroadcastReport.finished_at.is_(None))
            .values(finished_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        text = i18n.gettext(FINAL_COUNT, locale=report.locale).format(
            delivered=progress.delivered, blocked=progress.blocked, failed=progress.failed
        )
        notes.queue_note(session, report.chat_id, "final:" + report.ref, Outgoing(text), due_at=now)
        queued += 1
    await session.flush()
    return queued


async def show_progress(
    session: AsyncSession, sender: Sender, i18n: Translator, now: datetime
) -> int:
    """Send or edit each running broadcast's progress message, at most every few seconds.

    A courtesy: it edits one message in place, so it goes straight to the messenger rather
    than through the outbox; a failure is logged and tried on the next tick.
    """
    shown = 0
    for report in await _open_reports(session):
        progress = await broadcast_progress(session, report.ref)
        done = progress.total - progress.pending
        if progress.pending == 0 or done == (report.progress_shown or 0):
            continue
        # One instance at a time shows it: claim this round by moving `progress_at`.
        claimed = await session.execute(
            update(BroadcastReport)
            .where(
                BroadcastReport.ref == report.ref,
                (BroadcastReport.progress_at.is_(None))
                | (BroadcastReport.progress_at <= now - PROGRESS_EVERY),
            )
            .values(progress_at=now, progress_shown=done)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        text = i18n.gettext(PROGRESS, locale=report.locale).format(done=done, total=progress.total)
        try:
            if report.progress_message_id is None:
                message_id = await sender.send(report.chat_id, Outgoing(text))
                await session.execute(
                    update(BroadcastReport)
                    .where(BroadcastReport.ref == report.ref)
                    .values(progress_message_id=message_id)
                )
            else:
                await sender.edit(report.chat_id, report.progress_message_id, Outgoing(text))
            shown += 1
        except SendError as exc:
            log.warning("broadcast %s: progress not shown: %s", report.ref, exc.reason)
    await session.flush()
    return shown
