"""The delivery tick: send due outbox rows, paced, and settle each one.

A row is marked sent right after the messenger accepts it, so a crash repeats at most the
messages in flight. RetryAfter waits as asked and tries again; Blocked marks the member
unreachable; Transient failures retry later with backoff; Rejected drops the row.

What a row says is decided by the domain that queued it: each kind's renderer is
registered by the wiring (bot/), so delivery knows no meeting or memoir.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Member, OutboxMessage
from delivery import broadcasts, club_chat, notes, outbox
from delivery.lanes import Lanes
from delivery.messages import Outgoing
from delivery.pacer import PacedSender, SendPacer, sent_nothing
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
        self.errors.extend(other.errors)


@dataclass
class Delivery:
    sender: Sender
    session_factory: async_sessionmaker[AsyncSession]
    i18n: Translator
    clock: Clock
    pacer: SendPacer
    # Kind prefix -> renderer; the longest matching prefix wins.
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    # Messages in flight at once (SEND_IN_FLIGHT), never two to one chat. Enough of them
    # fill the limit despite the round trip; a process killed mid-send may repeat each
    # message in flight, so a restart repeats at most this many.
    in_flight: int = 8
    # How long a claim holds before another instance may take the row (OUTBOX_LEASE_SECONDS).
    lease: timedelta = outbox.LEASE
    # The club's channel or group (CLUB_CHAT_ID), and the renderers of its posts by kind
    # prefix (delivery/club_chat.py).
    club: club_chat.ClubChat | None = None
    chat_renderers: Mapping[str, ChatRenderer] = field(default_factory=dict)
    # Rows claimed at a time while draining; more are claimed when few are left waiting.
    batch: int = 100

    async def tick(self, limit: int = 200) -> DeliveryReport:
        """One claim of up to `limit` due rows, all of them delivered."""
        claims = iter([limit])
        return await self._run(lambda: next(claims, 0))

    async def drain(
        self, max_rounds: int = 1000, budget_seconds: float | None = None
    ) -> DeliveryReport:
        """Send until nothing is due, or the time budget is spent (the job's slice).

        Rows are claimed `batch` at a time while the lanes still have work, so the pipeline
        keeps its pace; after the budget no more are claimed (the claimed ones still go).
        """
        total = DeliveryReport()
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        claims = 0

        def spent() -> bool:
            over = deadline is not None and time.monotonic() > deadline
            return over or claims >= max_rounds

        def claim_size() -> int:
            nonlocal claims
            if spent():
                return 0
            claims += 1
            return self.batch

        while True:
            report = await self._run(claim_size)
            total.add(report)
            # A run ends when a claim finds nothing; a broadcast's final count may have
            # been queued at its end, so runs go on until one claims nothing at all.
            if report.claimed == 0 or spent():
                return total

    async def _run(self, claim_size: Callable[[], int]) -> DeliveryReport:
        report = DeliveryReport()

        async def refill() -> list[tuple[int, int]]:
            limit = claim_size()
            if limit <= 0:
                return []
            async with self.session_factory() as session:
                ids = await outbox.claim_due(
                    session, self.clock.now(), limit=limit, lease=self.lease
                )
                await session.commit()  # the claim must hold before anything is sent
                chats = await outbox.recipient_chats(session, ids) if ids else {}
            report.claimed += len(ids)
            return [(row_id, chats.get(row_id, 0)) for row_id in ids]

        async def deliver(row_id: int) -> None:
            try:
                async with self.session_factory() as session:
                    await self._deliver_one(session, row_id, report)
                    await session.commit()  # each row settles on its own
            except Exception as exc:  # its lease runs out and it is tried again
                log.exception("outbox row %s: delivery failed", row_id)
                report.errors.append(f"row {row_id}: {exc!r}")

        lanes = Lanes(self.in_flight, refill, deliver, low_water=max(self.in_flight, 8))
        stop = asyncio.Event()
        reports = asyncio.create_task(self._broadcast_reports_until(stop))
        try:
            await lanes.run()
        finally:
            stop.set()
            await reports
        await self._broadcast_reports()
        return report

    async def _broadcast_reports_until(self, stop: asyncio.Event) -> None:
        """Progress of running broadcasts while a long run sends."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), broadcasts.PROGRESS_EVERY.total_seconds())
            if stop.is_set():
                return
            await self._broadcast_reports()

    async def _broadcast_reports(self) -> None:
        """Final counts of finished broadcasts become notes; progress messages follow."""
        try:
            async with self.session_factory() as session:
                await broadcasts.queue_final_counts(session, self.i18n, self.clock.now())
                await session.commit()
            async with self.session_factory() as session:
                progress_sender = PacedSender(self.sender, self.pacer)
                await broadcasts.show_progress(
                    session, progress_sender, self.i18n, self.clock.now()
                )
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
            if not self._lease_holds(row):
                log.info(
                    "outbox row %s: lease ran out before its turn; left to a new claim", row.id
                )
                return
            permit = await self.pacer.acquire(chat_id)
            try:
                await self.sender.send(chat_id, message)
            except SendError as exc:
                if sent_nothing(exc):
                    await self.pacer.give_back(permit)
                if isinstance(exc, RetryAfter):
                    report.rate_limited += 1
                    metrics.RATE_LIMITED.inc()
                    await self.pacer.pause(exc.seconds)
                    continue
                await self._settle_failure(session, row, member, exc, report)
                return
            await outbox.mark_sent(session, row.id, self.clock.now())
            report.sent += 1
            metrics.MESSAGES_SENT.inc()
            return
        await self._retry_later(session, row, "rate limited repeatedly", report)

    def _lease_holds(self, row: OutboxMessage) -> bool:
        """Still ours to send, with time to spare: a row that waited (a long retry_after)
        until its lease nearly ran out is left to the next claim, by whichever instance."""
        if row.claimed_until is None:
            return True
        return row.claimed_until - self.lease / 4 > self.clock.now()

    async def _settle_failure(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        member: Member | None,
        exc: SendError,
        report: DeliveryReport,
    ) -> None:
        refused = isinstance(exc, Blocked | Rejected) and member is None
        if refused and self.club is not None and club_chat.is_club_post(row):
            # The club's chat refused the post: it is held, and the organisers are told.
            await self._hold_club_post(session, row, exc.reason, report)
            return
        if isinstance(exc, Blocked):
            if member is None:
                await outbox.mark_dropped(session, row.id, f"blocked: {exc.reason}")
            else:
                session.add(member)
                member.reachable = False
                await outbox.drop_unsent_for_member(session, member.id, f"blocked: {exc.reason}")
            report.blocked += 1
        elif isinstance(exc, Rejected):
            await outbox.mark_dropped(session, row.id, f"bad request: {exc.reason}")
            report.failed += 1
        else:  # Transient, or anything else the messenger said
            log.warning("outbox row %s: %s: %s", row.id, type(exc).__name__, exc.reason)
            await self._retry_later(session, row, f"{type(exc).__name__}: {exc.reason}", report)

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
