"""The delivery tick: send due outbox rows, paced, and settle each one.

A row is marked sent right after Telegram accepts it, so a crash repeats at most the one
message in flight. 429 waits `retry_after` and tries again; 403 marks the member
unreachable; 5xx and network errors retry later with backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archive import prompts
from db.models import BurdenEntry, Meeting, Member, OutboxMessage
from ground import metrics
from ground.clock import Clock
from scheduling.delivery import outbox
from scheduling.delivery.pacer import Pacer
from scheduling.meetings import notices
from scheduling.meetings.lifecycle import ANNOUNCE
from scheduling.meetings.reminder_offsets import offset_of_kind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_RETRY_AFTER_ROUNDS = 5
BROADCAST_PREFIX = "broadcast:"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 600))


@dataclass
class DeliveryReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    stale: int = 0
    rate_limited: int = 0
    claimed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Delivery:
    bot: Bot
    session_factory: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: Clock
    pacer: Pacer
    # Concurrent senders. With Telegram's ~50-100 ms round trip one sender cannot reach the
    # allowed rate, but each sender may have one message in flight when the process is
    # killed, so a restart may repeat up to `workers` messages. Rows are split by member,
    # so each member's messages keep their order.
    workers: int = 1
    # How long a claim holds before another instance may take the row (OUTBOX_LEASE_SECONDS).
    lease: timedelta = outbox.LEASE

    async def tick(self, limit: int = 200) -> DeliveryReport:
        report = DeliveryReport()
        async with self.session_factory() as session:
            ids = await outbox.claim_due(session, self.clock.now(), limit=limit, lease=self.lease)
            report.claimed = len(ids)
            if not ids:
                return report
            owners = await outbox.owners(session, ids)
        shards: list[list[int]] = [[] for _ in range(max(1, self.workers))]
        for row_id in ids:  # ids come oldest first; each shard keeps that order
            shards[owners[row_id] % len(shards)].append(row_id)
        await asyncio.gather(*(self._work(shard, report) for shard in shards if shard))
        return report

    async def _work(self, row_ids: list[int], report: DeliveryReport) -> None:
        async with self.session_factory() as session:
            for row_id in row_ids:
                await self._deliver_one(session, row_id, report)

    async def drain(
        self, max_rounds: int = 1000, budget_seconds: float | None = None
    ) -> DeliveryReport:
        """Tick until nothing is due, or the time budget is spent (the job's slice)."""
        total = DeliveryReport()
        started = time.monotonic()
        for _ in range(max_rounds):
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                break
            report = await self.tick()
            for name in (
                "sent",
                "blocked",
                "failed",
                "retried",
                "stale",
                "rate_limited",
                "claimed",
            ):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.claimed == 0:
                break
        return total

    async def _deliver_one(
        self, session: AsyncSession, row_id: int, report: DeliveryReport
    ) -> None:
        row = await session.get(OutboxMessage, row_id, populate_existing=True)
        if row is None or row.sent_at is not None or row.dropped:
            return
        member = await session.get(Member, row.member_id)
        if member is None or not member.reachable:
            await outbox.mark_dropped(session, row_id, "member gone or unreachable")
            return
        now = self.clock.now()
        try:
            text, markup = await self._render(session, row, member, now)
        except _Stale as stale:
            log.info("dropping stale outbox row %s (%s): %s", row_id, row.kind, stale)
            await outbox.mark_dropped(session, row_id, f"stale: {stale}")
            report.stale += 1
            return
        except Exception as exc:  # a bad row must not hold back the others
            log.exception("cannot render outbox row %s (%s)", row_id, row.kind)
            await outbox.mark_dropped(session, row_id, f"render failed: {exc!r}")
            report.failed += 1
            return
        await self._send(session, row, member, text, markup, report)

    async def _render(
        self, session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        if row.kind.startswith(BROADCAST_PREFIX):
            return str(json.loads(row.payload or "{}").get("text", "")), None
        if prompts.is_prompt_kind(row.kind):
            return await self._render_memoir_prompt(session, row, member)
        meeting = await session.get(Meeting, row.meeting_id) if row.meeting_id else None
        if meeting is None:
            raise _Stale("meeting deleted")
        if notices.is_stale(row.kind, meeting, now):
            raise _Stale(f"meeting at {meeting.starts_at.isoformat()} has begun or ended")
        # Each lookup only for the kind that uses it: this runs once per message sent.
        previous = None
        if offset_of_kind(row.kind) is not None:  # reminders note a DST change since then
            previous = await session.scalar(
                select(Meeting.starts_at)
                .where(Meeting.starts_at < meeting.starts_at, Meeting.status == "scheduled")
                .order_by(Meeting.starts_at.desc())
                .limit(1)
            )
        hard = False
        if row.kind == ANNOUNCE:  # the announcement tells a hard hour's member of better ones
            burden = (
                await session.execute(
                    select(BurdenEntry.cost, BurdenEntry.night).where(
                        BurdenEntry.meeting_id == meeting.id, BurdenEntry.member_id == member.id
                    )
                )
            ).first()
            hard = burden is not None and (burden.night or burden.cost >= notices.HARD_HOUR_COST)
        return notices.render(
            self.i18n, row.kind, member, meeting, row.payload, previous, hard_hour=hard
        )

    async def _render_memoir_prompt(
        self, session: AsyncSession, row: OutboxMessage, member: Member
    ) -> tuple[str, InlineKeyboardMarkup]:
        # Checked again at send time: the member may have opted out after it was queued.
        if not await prompts.prompts_wanted(session, member.id):
            raise _Stale("member opted out of memoir prompts")
        return prompts.render_prompt(self.i18n, member.locale, row.meeting_id or 0, row.payload)

    async def _send(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        member: Member,
        text: str,
        markup: InlineKeyboardMarkup | None,
        report: DeliveryReport,
    ) -> None:
        for _ in range(MAX_RETRY_AFTER_ROUNDS):
            await self.pacer.wait_turn(member.telegram_id)
            try:
                await self.bot.send_message(member.telegram_id, text, reply_markup=markup)
            except TelegramRetryAfter as exc:
                report.rate_limited += 1
                metrics.RATE_LIMITED.inc()  # metrics (issue 7)
                await self.pacer.pause(float(exc.retry_after))
                continue
            except TelegramForbiddenError as exc:
                member.reachable = False
                await session.commit()
                await outbox.drop_unsent_for_member(session, member.id, f"blocked: {exc.message}")
                report.blocked += 1
                return
            except TelegramBadRequest as exc:
                await outbox.mark_dropped(session, row.id, f"bad request: {exc.message}")
                report.failed += 1
                return
            except (TelegramServerError, TelegramNetworkError, OSError) as exc:
                await self._retry_later(session, row, str(exc), report)
                return
            except TelegramAPIError as exc:
                # Anything else Telegram says (404, 409, a migrated chat...): this row
                # waits and retries; the rest of the batch goes on.
                log.warning("outbox row %s: %s: %s", row.id, type(exc).__name__, exc.message)
                await self._retry_later(
                    session, row, f"{type(exc).__name__}: {exc.message}", report
                )
                return
            await outbox.mark_sent(session, row.id, self.clock.now())
            report.sent += 1
            metrics.MESSAGES_SENT.inc()  # metrics (issue 7)
            return
        await self._retry_later(session, row, "rate limited repeatedly", report)

    async def _retry_later(
        self, session: AsyncSession, row: OutboxMessage, error: str, report: DeliveryReport
    ) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            log.warning(
                "giving up outbox row %s after %s attempts: %s", row.id, row.attempts + 1, error
            )
            await outbox.mark_dropped(session, row.id, error)
            report.failed += 1
            return
        retry_at = self.clock.now() + backoff(row.attempts)
        await outbox.mark_retry(session, row.id, error, retry_at)
        report.retried += 1


class _Stale(Exception):
    pass
