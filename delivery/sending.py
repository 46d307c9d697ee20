"""The delivery tick: send due outbox rows, paced, and settle each one.

A row is marked sent right after the messenger accepts it, so a crash repeats at most the
messages in flight. RetryAfter waits as asked and tries again; Blocked marks the member
unreachable; Transient failures retry later with backoff; Rejected drops the row.

What a row says is decided by the domain that queued it: each kind's renderer is
registered by the wiring (bot/), so delivery knows no meeting or memoir.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Member, OutboxMessage
from delivery import broadcasts, club_chat, notes, outbox
from delivery.messages import Outgoing
from delivery.pacer import Pacer
from delivery.ports import Blocked, Rejected, RetryAfter, Sender, SendError
from delivery.rendering import ChatRenderer, Renderer, Stale
from ground import metrics
from ground.clock import Clock
from ground.i18n import Translator

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_RETRY_AFTER_ROUNDS = 5


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 600))


T = TypeVar("T")


def _longest_prefix(by_prefix: Mapping[str, T], kind: str) -> T | None:
    best: tuple[str, T] | None = None
    for prefix, value in by_prefix.items():
        if kind.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, value)
    return best[1] if best else None


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

    COUNTS = ("sent", "blocked", "failed", "retried", "stale", "rate_limited", "claimed")

    def add(self, other: DeliveryReport) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Delivery:
    sender: Sender
    session_factory: async_sessionmaker[AsyncSession]
    i18n: Translator
    clock: Clock
    pacer: Pacer
    # Kind prefix -> renderer; the longest matching prefix wins.
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    # Concurrent senders. With Telegram's ~50-100 ms round trip one sender cannot reach the
    # allowed rate, but each sender may have one message in flight when the process is
    # killed, so a restart may repeat up to `workers` messages. Rows are split by
    # recipient, so each person's messages keep their order.
    workers: int = 1
    # How long a claim holds before another instance may take the row (OUTBOX_LEASE_SECONDS).
    lease: timedelta = outbox.LEASE
    # The club's channel or group (CLUB_CHAT_ID), and the renderers of its posts by kind
    # prefix (delivery/club_chat.py).
    club: club_chat.ClubChat | None = None
    chat_renderers: Mapping[str, ChatRenderer] = field(default_factory=dict)

    async def tick(self, limit: int = 200) -> DeliveryReport:
        report = DeliveryReport()
        async with self.session_factory() as session:
            ids = await outbox.claim_due(session, self.clock.now(), limit=limit, lease=self.lease)
            await session.commit()  # the claim must hold before anything is sent
            report.claimed = len(ids)
            owners = await outbox.recipients(session, ids) if ids else {}
        shards: list[list[int]] = [[] for _ in range(max(1, self.workers))]
        for row_id in ids:  # ids come oldest first; each shard keeps that order
            shards[owners[row_id] % len(shards)].append(row_id)
        await asyncio.gather(*(self._work(shard, report) for shard in shards if shard))
        await self._broadcast_reports()
        return report

    async def _work(self, row_ids: list[int], report: DeliveryReport) -> None:
        async with self.session_factory() as session:
            for row_id in row_ids:
                await self._deliver_one(session, row_id, report)
                await session.commit()  # each row settles on its own

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
            total.add(report)
            if report.claimed == 0:
                break
        return total

    async def _broadcast_reports(self) -> None:
        """Final counts of finished broadcasts become notes; progress messages follow."""
        try:
            async with self.session_factory() as session:
                await broadcasts.queue_final_counts(session, self.i18n, self.clock.now())
                await session.commit()
            async with self.session_factory() as session:
                await broadcasts.show_progress(session, self.sender, self.i18n, self.clock.now())
                await session.commit()
        except Exception:  # a report is a courtesy; sending must go on
            log.exception("broadcast reports failed")

    def _renderer_for(self, kind: str) -> Renderer | None:
        return _longest_prefix(self.renderers, kind)

    async def _deliver_one(
        self, session: AsyncSession, row_id: int, report: DeliveryReport
    ) -> None:
        row = await session.get(OutboxMessage, row_id, populate_existing=True)
        if row is None or row.sent_at is not None or row.dropped:
            return
        if club_chat.is_club_post(row):
            await self._post_to_club(session, row, report)
            return
        if row.member_id is None:  # a note to a chat: its text was written when queued
            if row.chat_id is None:
                await outbox.mark_dropped(session, row_id, "no recipient")
                return
            await self._send(session, row, None, row.chat_id, notes.read(row.payload), report)
            return
        member = await session.get(Member, row.member_id)
        if member is None or not member.reachable:
            await outbox.mark_dropped(session, row_id, "member gone or unreachable")
            return
        try:
            message = await self._render(session, row, member)
        except Stale as stale:
            log.info("dropping stale outbox row %s (%s): %s", row_id, row.kind, stale)
            await outbox.mark_dropped(session, row_id, f"stale: {stale}")
            report.stale += 1
            return
        except Exception as exc:  # a bad row must not hold back the others
            log.exception("cannot render outbox row %s (%s)", row_id, row.kind)
            await outbox.mark_dropped(session, row_id, f"render failed: {exc!r}")
            report.failed += 1
            return
        await self._send(session, row, member, member.telegram_id, message, report)

    async def _post_to_club(
        self, session: AsyncSession, row: OutboxMessage, report: DeliveryReport
    ) -> None:
        chat_id = self.club.chat_id if self.club is not None else None
        if chat_id is None:
            await outbox.mark_dropped(session, row.id, "no club chat (CLUB_CHAT_ID is empty)")
            return
        try:
            if row.kind.startswith(club_chat.NOTE_PREFIX):
                message = notes.read(row.payload)
            else:
                renderer = _longest_prefix(self.chat_renderers, row.kind)
                if renderer is None:
                    raise ValueError(f"no renderer for club post {row.kind!r}")
                message = await renderer(session, row, self.clock.now())
        except Stale as stale:
            await outbox.mark_dropped(session, row.id, f"stale: {stale}")
            report.stale += 1
            return
        except Exception as exc:  # a bad row must not hold back the others
            log.exception("cannot render club post %s (%s)", row.id, row.kind)
            await outbox.mark_dropped(session, row.id, f"render failed: {exc!r}")
            report.failed += 1
            return
        await self._send(session, row, None, chat_id, message, report)

    async def _hold_club_post(
        self, session: AsyncSession, row: OutboxMessage, error: str, report: DeliveryReport
    ) -> None:
        """The club chat refused the post: keep it for later and tell the organisers."""
        assert self.club is not None
        log.warning("club chat refused post %s (%s): %s", row.id, row.kind, error)
        await club_chat.hold(
            session, row.id, error, now=self.clock.now(), club=self.club, i18n=self.i18n
        )
        report.failed += 1

    async def _render(self, session: AsyncSession, row: OutboxMessage, member: Member) -> Outgoing:
        if row.kind.startswith(broadcasts.KIND_PREFIX):
            return broadcasts.render(self.i18n, member.locale, row.payload)
        renderer = self._renderer_for(row.kind)
        if renderer is None:
            raise ValueError(f"no renderer for outbox kind {row.kind!r}")
        return await renderer(session, row, member, self.clock.now())

    async def _send(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        member: Member | None,
        chat_id: int,
        message: Outgoing,
        report: DeliveryReport,
    ) -> None:
        for _ in range(MAX_RETRY_AFTER_ROUNDS):
            await self.pacer.wait_turn(chat_id)
            try:
                await self.sender.send(chat_id, message)
            except RetryAfter as exc:
                report.rate_limited += 1
                metrics.RATE_LIMITED.inc()
                await self.pacer.pause(exc.seconds)
                continue
            except (Blocked, Rejected) as exc:
                if member is None and self.club is not None and club_chat.is_club_post(row):
                    await self._hold_club_post(session, row, exc.reason, report)
                    return
                if isinstance(exc, Rejected):
                    await outbox.mark_dropped(session, row.id, f"bad request: {exc.reason}")
                    report.failed += 1
                    return
                if member is None:
                    await outbox.mark_dropped(session, row.id, f"blocked: {exc.reason}")
                else:
                    session.add(member)
                    member.reachable = False
                    await outbox.drop_unsent_for_member(
                        session, member.id, f"blocked: {exc.reason}"
                    )
                report.blocked += 1
                return
            except SendError as exc:  # Transient, or anything else the messenger said
                log.warning("outbox row %s: %s: %s", row.id, type(exc).__name__, exc.reason)
                await self._retry_later(session, row, f"{type(exc).__name__}: {exc.reason}", report)
                return
            await outbox.mark_sent(session, row.id, self.clock.now())
            report.sent += 1
            metrics.MESSAGES_SENT.inc()
            return
        await self._retry_later(session, row, "rate limited repeatedly", report)

    async def _retry_later(
        self, session: AsyncSession, row: OutboxMessage, error: str, report: DeliveryReport
    ) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            if self.club is not None and club_chat.is_club_post(row):
                await self._hold_club_post(session, row, error, report)
                return
            log.warning(
                "giving up outbox row %s after %s attempts: %s", row.id, row.attempts + 1, error
            )
            await outbox.mark_dropped(session, row.id, error)
            report.failed += 1
            return
        retry_at = self.clock.now() + backoff(row.attempts)
        await outbox.mark_retry(session, row.id, error, retry_at)
        report.retried += 1
