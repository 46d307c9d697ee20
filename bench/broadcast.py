"""Broadcast delivery benchmark: one broadcast to N members through the real delivery engine.

The real `Delivery` (outbox claims, `Pacer`, aiogram's HTTP session, SQLite in WAL mode)
sends to `FakeBotAPI`, which enforces a global rate limit (429 + retry_after once more
than `--rate` messages were accepted within one second) and answers injected faults:
429s with retry_after=1, 500s (the row is retried after its backoff) and blocked chats (403).

Pacing uses the real monotonic clock. The outbox clock is real time plus an offset: when
only rows waiting out a 5xx backoff are left, the offset jumps to their due time instead of
sleeping (reported as "backoff skipped"; that time is not in the elapsed figure).

    .venv/bin/python -m bench.broadcast                     # 3,000 members, 300 msg/s
    .venv/bin/python -m bench.broadcast --breakdown         # + where the time goes
    .venv/bin/python -m bench.broadcast --members 600 --rate 30 --latency-ms 60

"Throughput excluding mandated waits" divides by elapsed minus the seconds the Pacer spent
in 429 pauses (exact with one sender; with several, pauses may overlap).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.seed import seed_members
from bot.app import build_delivery
from bot.runner import open_app
from db.models import OutboxMessage
from delivery import outbox
from delivery.broadcasts import broadcast_progress, queue_broadcast
from delivery.pacer import Pacer
from delivery.sending import Delivery, DeliveryReport
from ground.clock import Clock
from ground.settings import load_settings
from sandbox.fake_api import FakeBotAPI

TOKEN = "123456:BENCH-token-for-the-fake-api"
REF = "bench"
TEXT = "Привет! The club meets on Saturday — see you there. 你好！"
FIRST_TELEGRAM_ID = 10_000_000


class OffsetClock(Clock):
    """Real UTC now plus an offset the benchmark moves forward to skip backoff waits."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class MeasuredPacer(Pacer):
    """The real pacer, also adding up the waits Telegram mandated with 429 retry_after."""

    def __init__(self, global_rate: float, per_chat_rate: float) -> None:
        super().__init__(global_rate, per_chat_rate)
        self.paused_seconds = 0.0
        self.pauses = 0

    async def pause(self, seconds: float) -> None:
        self.pauses += 1
        self.paused_seconds += seconds
        await super().pause(seconds)


@dataclass
class Timings:
    """Wall time spent in the engine's steps (only with --breakdown)."""

    seconds: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    def wrap(self, name: str, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await func(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


@dataclass
class Plan:
    blocked: set[int]
    rate_limited: set[int]
    server_errors: set[int]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=3000, help="members (default 3000)")
    parser.add_argument(
        "--rate", type=int, default=300, help="global limit the fake enforces, msg/s (300)"
    )
    parser.add_argument(
        "--pacer-fraction",
        type=float,
        default=0.98,
        help="Pacer global rate as a fraction of --rate (0.98)",
    )
    parser.add_argument("--blocked", type=int, default=30, help="members who blocked the bot")
    parser.add_argument("--429s", dest="n429", type=int, default=5, help="injected 429s")
    parser.add_argument("--500s", dest="n500", type=int, default=30, help="injected 500s")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="extra answer delay of the fake for every sendMessage (network round trip)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="concurrent senders of the shipped engine (SEND_WORKERS; default 1)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--breakdown", action="store_true", help="time the engine's steps (adds overhead)"
    )
    args = parser.parse_args(argv)
    faults = args.blocked + args.n429 + args.n500
    if args.members < 1 or faults > args.members:
        parser.error("need at least one member and no more faults than members")
    return args


def make_plan(members: int, args: argparse.Namespace) -> Plan:
    ids = [FIRST_TELEGRAM_ID + i for i in range(members)]
    chosen = random.Random(args.seed).sample(ids, args.blocked + args.n429 + args.n500)
    return Plan(
        blocked=set(chosen[: args.blocked]),
        rate_limited=set(chosen[args.blocked : args.blocked + args.n429]),
        server_errors=set(chosen[args.blocked + args.n429 :]),
    )


async def add_members(delivery: Delivery, count: int, now: datetime) -> None:
    zones = [("ru", "Europe/Moscow"), ("en", "Australia/Sydney"), ("zh", "Asia/Harbin")]

    def zone_and_locale(i: int, _telegram_id: int) -> dict[str, str]:
        locale, zone = zones[i % len(zones)]
        return {"locale": locale, "zone": zone}

    async with delivery.session_factory() as session:
        await seed_members(
            session,
            range(FIRST_TELEGRAM_ID, FIRST_TELEGRAM_ID + count),
            name="Member {i}",
            at=now,
            vary=zone_and_locale,
        )
        await session.commit()


async def next_due(delivery: Delivery) -> datetime | None:
    """Due time of the earliest row still waiting (unsent, not dropped), if any."""
    async with delivery.session_factory() as session:
        return await session.scalar(
            select(func.min(OutboxMessage.due_at)).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.dropped.is_(False)
            )
        )


def add_reports(total: DeliveryReport, report: DeliveryReport) -> None:
    for name in ("sent", "blocked", "failed", "retried", "stale", "rate_limited"):
        setattr(total, name, getattr(total, name) + getattr(report, name))


async def deliver_all(delivery: Delivery, clock: OffsetClock) -> tuple[DeliveryReport, int, float]:
    """drain(); when only backoff rows are left, move the clock to them and drain again."""
    total = DeliveryReport()
    jumps, skipped = 0, 0.0
    while True:
        add_reports(total, await delivery.drain())
        due = await next_due(delivery)
        if due is None:
            return total, jumps, skipped
        ahead = (due - clock.now()).total_seconds()
        if ahead > 0:
            clock.offset += timedelta(seconds=ahead + 0.001)
            jumps += 1
            skipped += ahead


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = make_plan(args.members, args)
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        settings = load_settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}",
            media_dir=str(Path(tmp) / "media"),
            default_locale="ru",
        )
        clock = OffsetClock()
        async with (
            FakeBotAPI(rate_limit_per_sec=args.rate, auto_create_chats=True) as fake,
            open_app(settings, token=TOKEN, api_base=fake.base_url, clock=clock) as app,
        ):
            pacer = MeasuredPacer(args.rate * args.pacer_fraction, per_chat_rate=1000.0)
            delivery = build_delivery(app.bot, app.ctx, pacer, workers=args.workers)
            await add_members(delivery, args.members, clock.now())
            for chat_id in plan.blocked:
                fake.block(chat_id)
            for chat_id in plan.rate_limited:
                fake.inject("sendMessage", chat_id=chat_id, status=429, retry_after=1)
            for chat_id in plan.server_errors:
                fake.inject("sendMessage", chat_id=chat_id, status=500)
            if args.latency_ms > 0:
                # Last in the list, so the chat-specific faults above still match first.
                fake.inject("sendMessage", delay=args.latency_ms / 1000, times=10**9)
            timings = Timings()
            if args.breakdown:
                instrument(delivery, timings)
            async with delivery.session_factory() as session:
                queued = await queue_broadcast(session, REF, TEXT, now=clock.now())
                await session.commit()

            started, cpu_started = time.perf_counter(), time.process_time()
            report, jumps, skipped = await deliver_all(delivery, clock)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started

            async with delivery.session_factory() as session:
                progress = await broadcast_progress(session, REF)
            return summarise(
                args, plan, fake, pacer, report, progress, queued, elapsed, jumps, skipped, timings
            ) | {"cpu": cpu}


def instrument(delivery: Delivery, timings: Timings) -> None:
    """Time HTTP sends, pacing and the outbox writes (module attributes the engine calls)."""
    bot: Any = delivery.sender.bot  # type: ignore[attr-defined]  # the Telegram sender
    bot.send_message = timings.wrap("http send_message", bot.send_message)
    delivery.pacer.wait_turn = timings.wrap("pacer wait_turn", delivery.pacer.wait_turn)  # type: ignore[method-assign]
    for name in ("claim_due", "mark_sent", "mark_retry", "mark_dropped"):
        setattr(outbox, name, timings.wrap(f"outbox.{name}", getattr(outbox, name)))


def summarise(
    args: argparse.Namespace,
    plan: Plan,
    fake: FakeBotAPI,
    pacer: MeasuredPacer,
    report: DeliveryReport,
    progress: Any,
    queued: int,
    elapsed: float,
    jumps: int,
    skipped: float,
    timings: Timings,
) -> dict[str, Any]:
    sends = fake.requests_for("sendMessage")
    accepted: dict[int, int] = fake.stats["accepted"]
    total_accepted = sum(accepted.values())
    everyone = [FIRST_TELEGRAM_ID + i for i in range(args.members)]
    lost = [c for c in everyone if c not in plan.blocked and accepted.get(c, 0) == 0]
    duplicates = [c for c in everyone if accepted.get(c, 0) > 1]
    first_403: dict[int, int] = {}
    after_403 = 0
    for index, request in enumerate(sends):
        chat = int(request.chat_id or 0)
        if chat in first_403:
            after_403 += 1
        elif request.status == 403:
            first_403[chat] = index
    statuses = Counter(r.status for r in sends)
    fake_429 = statuses[429] - args.n429
    active = elapsed - pacer.paused_seconds
    return {
        "elapsed": elapsed,
        "accepted": total_accepted,
        "queued": queued,
        "requests": len(sends),
        "statuses": dict(sorted(statuses.items(), key=lambda kv: kv[0] or 0)),
        "fake_429": fake_429,
        "rate": args.rate,
        "pacer_rate": args.rate * args.pacer_fraction,
        "throughput": total_accepted / elapsed,
        "raw_fraction": total_accepted / elapsed / args.rate,
        "paused": pacer.paused_seconds,
        "pauses": pacer.pauses,
        "active_fraction": total_accepted / active / args.rate if active > 0 else 0.0,
        "lost": len(lost),
        "duplicates": len(duplicates),
        "after_403": after_403,
        "blocked_seen": len(first_403),
        "report": report,
        "progress": progress,
        "jumps": jumps,
        "skipped": skipped,
        "timings": timings,
    }


def print_summary(args: argparse.Namespace, r: dict[str, Any]) -> None:
    report: DeliveryReport = r["report"]
    progress = r["progress"]
    print(
        f"members {args.members}, fake limit {r['rate']} msg/s, pacer {r['pacer_rate']:.0f} msg/s, "
        f"per-chat pacer 1000/s, extra latency {args.latency_ms:g} ms"
    )
    print(
        f"faults: {args.blocked} blocked (403), {args.n429} x 429 retry_after=1, "
        f"{args.n500} x 500 (once each)"
    )
    print(f"engine: shipped Delivery, {args.workers} sender(s), one UPDATE+COMMIT per message")
    print(f"queued {r['queued']} rows; sendMessage requests {r['requests']}: {r['statuses']}")
    print(
        f"engine report: sent {report.sent}, blocked {report.blocked}, retried {report.retried}, "
        f"failed {report.failed}, rate_limited {report.rate_limited}, stale {report.stale}"
    )
    print(
        f"progress: delivered {progress.delivered}/{progress.total}, blocked {progress.blocked}, "
        f"failed {progress.failed}, pending {progress.pending}"
    )
    print(
        f"elapsed {r['elapsed']:.2f} s real time (backoff skipped by the clock offset below); "
        f"process CPU {r['cpu']:.2f} s = {1000 * r['cpu'] / max(1, r['requests']):.2f} ms "
        "per request, bot and fake server together"
    )
    print(
        f"backoff skipped: {r['skipped']:.2f} s of outbox clock over {r['jumps']} jump(s), "
        "not waited for and not in elapsed"
    )
    print(
        f"mandated 429 waits: {r['paused']:.2f} s over {r['pauses']} pause(s); "
        f"429s from the fake's own limiter: {r['fake_429']}"
    )
    print(
        f"throughput {r['throughput']:.1f} msg/s = {r['raw_fraction']:.3f} of the allowed "
        f"{r['rate']} msg/s (raw)"
    )
    print(
        f"throughput excluding mandated 429 waits: {r['active_fraction']:.3f} of the allowed rate"
    )
    print(
        f"lost (not blocked, 0 messages): {r['lost']}; duplicates (>1 message): {r['duplicates']}; "
        f"sends after a member's first 403: {r['after_403']} "
        f"(members who answered 403: {r['blocked_seen']})"
    )
    timings: Timings = r["timings"]
    if args.breakdown:
        print("breakdown (wall seconds, calls, ms per call):")
        for name, seconds in timings.seconds.most_common():
            calls = timings.calls[name]
            print(f"  {name:<22} {seconds:7.2f} s  {calls:6d}  {1000 * seconds / calls:6.2f} ms")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average {load:.1f}")
    result = asyncio.run(run(args))
    print_summary(args, result)
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["after_403"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
