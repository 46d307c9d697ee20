"""Broadcast delivery benchmark: one broadcast to N members through the real delivery engine.

The real `Delivery` (outbox claims, pipelined lanes, the shipped pacer, aiogram's HTTP
session) sends to `FakeBotAPI`, which plays Telegram: a round trip (`--latency-ms`, half
each way), a limit of `--rate` messages in any one second (429 + retry_after beyond it;
only messages it sent count, as Telegram's FAQ states the limit), and injected faults:
429s with retry_after=1, 500s (the row is retried after its backoff) and blocked chats (403).

The engine runs with the shipped settings: SEND_RATE_GLOBAL of Telegram's 30/s (scaled to
`--rate`), SEND_RATE_PER_CHAT, SEND_IN_FLIGHT; flags override them. `--instances 2` runs
two Delivery engines, each with its own HTTP client, database connections and pacer,
sharing one limit over Redis and one PostgreSQL database (BENCH_REDIS_URL or
TEST_REDIS_URL, BENCH_DATABASE_URL or TEST_DATABASE_URL; scripts/redis.sh and
scripts/postgres.sh start them).

The outbox clock is real time plus an offset: when only rows waiting out a 5xx backoff are
left, the offset jumps to their due time instead of sleeping (not in the elapsed figure).

    .venv/bin/python -m bench.broadcast --members 900 --rate 30 --latency-ms 80
    .venv/bin/python -m bench.broadcast --members 900 --rate 30 --latency-ms 80 --instances 2
    .venv/bin/python -m bench.broadcast --breakdown          # + where the time goes

Fractions are of the fake's limit, per second of sending outside the waits Telegram
mandated (429 retry_after; their union when they overlap); raw figures count them too.
"Attempts" are all sendMessage requests; "delivered" the messages the fake sent, which is
what its limit counts. The last line sums it up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.seed import seed_members
from bot.app import build_delivery
from bot.runner import open_app
from db.models import OutboxMessage
from delivery import outbox
from delivery.broadcasts import broadcast_progress, queue_broadcast
from delivery.pacer import Pacer, Permit, SendPacer
from delivery.sending import Delivery, DeliveryReport
from delivery.shared_pacer import SharedPacer, pacer_redis
from ground.clock import Clock
from ground.settings import Settings, load_settings
from sandbox.fake_api import FakeBotAPI

TELEGRAM_RATE = 30  # messages a second, Telegram's documented limit for a bot
REF = "bench"
TEXT = "Привет! The club meets on Saturday — see you there. 你好！"
FIRST_TELEGRAM_ID = 10_000_000


class OffsetClock(Clock):
    """Real UTC now plus an offset the benchmark moves forward to skip backoff waits."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class MeasuredPacer:
    """The shipped pacer, noting the pauses Telegram mandated (429 retry_after)."""

    def __init__(self, pacer: SendPacer, pauses: list[tuple[float, float]]) -> None:
        self.pacer = pacer
        self.pauses = pauses  # (start, end) in time.monotonic(), shared by the instances

    async def acquire(self, chat_id: int) -> Permit:
        return await self.pacer.acquire(chat_id)

    async def give_back(self, permit: Permit) -> None:
        await self.pacer.give_back(permit)

    async def pause(self, seconds: float) -> None:
        now = time.monotonic()
        self.pauses.append((now, now + seconds))
        await self.pacer.pause(seconds)


def union_seconds(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] covered by any of the intervals."""
    covered, reach = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, reach), min(b, end)
        if b > a:
            covered += b - a
            reach = b
    return covered


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
        "--rate", type=int, default=300, help="the fake's limit, messages per second (300)"
    )
    parser.add_argument(
        "--pacer-fraction",
        type=float,
        default=None,
        help="the pacer's rate as a fraction of --rate "
        f"(default: the shipped SEND_RATE_GLOBAL / {TELEGRAM_RATE})",
    )
    parser.add_argument(
        "--in-flight",
        "--workers",
        dest="in_flight",
        type=int,
        default=None,
        help="messages in flight per instance (default: the shipped SEND_IN_FLIGHT)",
    )
    parser.add_argument("--instances", type=int, default=1, help="engines sharing the limit")
    parser.add_argument("--blocked", type=int, default=30, help="members who blocked the bot")
    parser.add_argument("--429s", dest="n429", type=int, default=5, help="injected 429s")
    parser.add_argument("--500s", dest="n500", type=int, default=30, help="injected 500s")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the network's round trip to the fake"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--breakdown", action="store_true", help="time the engine's steps (adds overhead)"
    )
    args = parser.parse_args(argv)
    faults = args.blocked + args.n429 + args.n500
    if args.members < 1 or faults > args.members:
        parser.error("need at least one member and no more faults than members")
    if args.instances < 1:
        parser.error("--instances must be at least 1")
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


async def deliver_all(
    deliveries: list[Delivery], clock: OffsetClock
) -> tuple[DeliveryReport, int, float]:
    """Every engine drains at once; when only backoff rows are left, the clock moves on."""
    total = DeliveryReport()
    jumps, skipped = 0, 0.0
    while True:
        for report in await asyncio.gather(*(d.drain() for d in deliveries)):
            total.add(report)
        due = await next_due(deliveries[0])
        if due is None:
            return total, jumps, skipped
        ahead = (due - clock.now()).total_seconds()
        if ahead > 0:
            clock.offset += timedelta(seconds=ahead + 0.001)
            jumps += 1
            skipped += ahead


@contextlib.asynccontextmanager
async def database(args: argparse.Namespace, tmp: Path) -> AsyncIterator[str]:
    """A SQLite file for one engine; a throwaway PostgreSQL database for several."""
    if args.instances == 1:
        yield f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        return
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        raise SystemExit("--instances > 1 needs PostgreSQL: set BENCH_DATABASE_URL")
    name = f"bench_broadcast_{uuid.uuid4().hex[:8]}"
    admin = make_url(server).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def shipped_pacer(args: argparse.Namespace, settings: Settings, redis_url: str | None, bot_id: int):  # type: ignore[no-untyped-def]
    """The pacer the bot builds, at the shipped share of Telegram's limit scaled to --rate."""
    fraction = args.pacer_fraction or settings.send_rate_global / TELEGRAM_RATE
    local = Pacer(args.rate * fraction, settings.send_rate_per_chat)
    if redis_url is None:
        return local, None
    redis = pacer_redis(redis_url)
    return SharedPacer(redis, bot_id, local), redis


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = make_plan(args.members, args)
    redis_url = None
    if args.instances > 1:
        redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
        if not redis_url:
            raise SystemExit("--instances > 1 shares the limit over Redis: set BENCH_REDIS_URL")
    # A bot id of its own, so no other run's keys in a shared Redis count against this one.
    token = f"{random.randrange(10**8, 10**9)}:BENCH-token-for-the-fake-api"
    pauses: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        async with (
            database(args, Path(tmp)) as url,
            FakeBotAPI(
                rate_limit_per_sec=args.rate,
                auto_create_chats=True,
                latency=args.latency_ms / 1000,
            ) as fake,
            contextlib.AsyncExitStack() as stack,
        ):
            settings = load_settings(
                _env_file=None,
                database_url=url,
                media_dir=str(Path(tmp) / "media"),
                default_locale="ru",
            )
            clock = OffsetClock()
            deliveries: list[Delivery] = []
            for _ in range(args.instances):
                app = await stack.enter_async_context(
                    open_app(settings, token=token, api_base=fake.base_url, clock=clock)
                )
                pacer, redis = shipped_pacer(args, settings, redis_url, app.bot.id)
                if redis is not None:
                    stack.push_async_callback(redis.aclose)
                delivery = build_delivery(
                    app.bot, app.ctx, MeasuredPacer(pacer, pauses), in_flight=args.in_flight
                )
                deliveries.append(delivery)
            first = deliveries[0]
            await add_members(first, args.members, clock.now())
            for chat_id in plan.blocked:
                fake.block(chat_id)
            for chat_id in plan.rate_limited:
                fake.inject("sendMessage", chat_id=chat_id, status=429, retry_after=1)
            for chat_id in plan.server_errors:
                fake.inject("sendMessage", chat_id=chat_id, status=500)
            timings = Timings()
            if args.breakdown:
                instrument(deliveries, timings)
            async with first.session_factory() as session:
                queued = await queue_broadcast(session, REF, TEXT, now=clock.now())
                await session.commit()

            started, cpu_started = time.monotonic(), time.process_time()
            report, jumps, skipped = await deliver_all(deliveries, clock)
            ended = time.monotonic()
            cpu = time.process_time() - cpu_started

            async with first.session_factory() as session:
                progress = await broadcast_progress(session, REF)
            paused = union_seconds(pauses, started, ended)
            return summarise(
                args, plan, fake, report, progress, queued, ended - started, paused
            ) | {
                "cpu": cpu,
                "jumps": jumps,
                "skipped": skipped,
                "timings": timings,
                "pacer": pacer,
                "in_flight": deliveries[0].in_flight,
                "pause_count": len(pauses),
            }


def instrument(deliveries: list[Delivery], timings: Timings) -> None:
    """Time HTTP sends, pacing and the outbox writes (module attributes the engine calls)."""
    for delivery in deliveries:
        sender: Any = delivery.sender
        sender.send = timings.wrap("http send_message", sender.send)
        pacer: Any = delivery.pacer
        pacer.acquire = timings.wrap("pacer acquire", pacer.acquire)
    for name in ("claim_due", "mark_sent", "mark_retry", "mark_dropped"):
        setattr(outbox, name, timings.wrap(f"outbox.{name}", getattr(outbox, name)))


def summarise(
    args: argparse.Namespace,
    plan: Plan,
    fake: FakeBotAPI,
    report: DeliveryReport,
    progress: Any,
    queued: int,
    elapsed: float,
    paused: float,
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
    active = elapsed - paused
    return {
        "elapsed": elapsed,
        "paused": paused,
        "accepted": total_accepted,
        "queued": queued,
        "requests": len(sends),
        "statuses": dict(sorted(statuses.items(), key=lambda kv: kv[0] or 0)),
        "fake_429": statuses[429] - args.n429,
        "busiest_second": fake.most_counted_within(1.0),
        "attempts_raw": len(sends) / elapsed / args.rate,
        "delivered_raw": total_accepted / elapsed / args.rate,
        "attempts": len(sends) / active / args.rate if active > 0 else 0.0,
        "delivered": total_accepted / active / args.rate if active > 0 else 0.0,
        "lost": len(lost),
        "duplicates": len(duplicates),
        "after_403": after_403,
        "blocked_seen": len(first_403),
        "report": report,
        "progress": progress,
    }


def print_summary(args: argparse.Namespace, r: dict[str, Any]) -> None:
    report: DeliveryReport = r["report"]
    progress = r["progress"]
    pacer = r["pacer"]
    local = pacer.local if isinstance(pacer, SharedPacer) else pacer
    shared = " shared over Redis" if isinstance(pacer, SharedPacer) else ""
    print(
        f"members {args.members}, fake limit {args.rate} msg/s, round trip "
        f"{args.latency_ms:g} ms; {args.instances} engine(s), {r['in_flight']} in flight each, "
        f"pacer {local.window.cap} per {local.window.window:g} s{shared}, "
        f"per chat {local.per_chat_rate:g}/s"
    )
    print(
        f"faults: {args.blocked} blocked (403), {args.n429} x 429 retry_after=1, "
        f"{args.n500} x 500 (once each)"
    )
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
        f"elapsed {r['elapsed']:.2f} s real time; process CPU {r['cpu']:.2f} s = "
        f"{1000 * r['cpu'] / max(1, r['requests']):.2f} ms per request, engines and fake together"
    )
    print(
        f"backoff skipped: {r['skipped']:.2f} s of outbox clock over {r['jumps']} jump(s), "
        "not waited for and not in elapsed"
    )
    print(
        f"mandated 429 waits: {r['paused']:.2f} s ({r['pause_count']} pause(s)); "
        f"429s from the fake's own limiter: {r['fake_429']}; "
        f"most messages counted in any 1 s: {r['busiest_second']} (limit {args.rate})"
    )
    print(
        f"raw (429 waits included): attempts {r['attempts_raw']:.3f}, "
        f"delivered {r['delivered_raw']:.3f} of the limit"
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
    print(
        f"attempts fraction {r['attempts']:.2f}, delivered fraction {r['delivered']:.2f}, "
        f"lost {r['lost']}, duplicates {r['duplicates']}, after-403 {r['after_403']}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # a 500's retry is counted below, not logged
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average {load:.1f}")
    result = asyncio.run(run(args))
    print_summary(args, result)
    ok = (
        result["lost"] == 0
        and result["duplicates"] == 0
        and result["after_403"] == 0
        and result["busiest_second"] <= args.rate
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
