"""Sending at Telegram's pace: several messages in flight, one limit per bot token.

Over real HTTP to the fake Bot API (which plays the network's round trip and Telegram's
count of messages sent), with the shipped `Delivery`, `Pacer` and `SharedPacer`. Rates
are scaled up so that each test takes a second or two; the windows stay one second long,
as Telegram's.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bench.seed import seed_members
from bot.app import build_delivery
from bot.runner import RunningApp, open_app
from delivery.broadcasts import broadcast_progress, queue_broadcast
from delivery.messages import Outgoing
from delivery.pacer import Pacer, SendPacer
from delivery.ports import Sender
from delivery.sending import Delivery
from delivery.shared_pacer import SharedPacer, pacer_redis
from ground.clock import FixedClock
from ground.settings import load_settings
from sandbox.fake_api import FakeBotAPI
from tests.club import DEFAULT_NOW
from tests.dburl import fresh_database

NOW = DEFAULT_NOW


class WatchedSender:
    """The real sender, noting how many sends are in flight, overall and per chat."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.in_flight = 0
        self.most_in_flight = 0
        self.by_chat: dict[int, int] = defaultdict(int)
        self.most_in_one_chat = 0
        self.started: dict[int, list[float]] = defaultdict(list)

    async def send(self, chat_id: int, message: Outgoing) -> int:
        self.in_flight += 1
        self.by_chat[chat_id] += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.most_in_one_chat = max(self.most_in_one_chat, self.by_chat[chat_id])
        self.started[chat_id].append(time.monotonic())
        try:
            return await self.sender.send(chat_id, message)
        finally:
            self.in_flight -= 1
            self.by_chat[chat_id] -= 1

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        await self.sender.edit(chat_id, message_id, message)


@dataclass
class Instance:
    app: RunningApp
    delivery: Delivery

    async def add_members(self, telegram_ids: range) -> None:
        async with self.app.ctx.session_factory() as session:
            await seed_members(
                session, telegram_ids, name="M{i}", at=NOW - timedelta(days=1), locale="en"
            )
            await session.commit()

    async def broadcast(self, ref: str, text: str) -> int:
        async with self.app.ctx.session_factory() as session:
            count = await queue_broadcast(session, ref, text, now=NOW)
            await session.commit()
        return count


@asynccontextmanager
async def instance(
    stack: AsyncExitStack, tmp: Path, fake: FakeBotAPI, pacer: SendPacer, token: str, **kw: int
) -> AsyncIterator[Instance]:
    """A bot of its own (its HTTP client, its database) sending through `pacer`."""
    url = await stack.enter_async_context(fresh_database(tmp))
    settings = load_settings(
        _env_file=None, database_url=url, media_dir=str(tmp / "media"), default_locale="en"
    )
    app = await stack.enter_async_context(
        open_app(settings, token=token, api_base=fake.base_url, clock=FixedClock(NOW))
    )
    yield Instance(app, build_delivery(app.bot, app.ctx, pacer, **kw))


def _token() -> str:
    """A bot id of the test's own: a shared Redis holds no other test's limit for it."""
    return f"{random.randrange(10**8, 10**9)}:pacing-test-token"


# --------------------------------------------------------------------------- one process


async def test_several_sends_in_flight_never_two_to_one_chat_and_each_chat_in_order(
    tmp_path: Path,
) -> None:
    async with (
        FakeBotAPI(auto_create_chats=True, latency=0.03) as fake,
        AsyncExitStack() as stack,
    ):
        pacer = Pacer(1000, per_chat_rate=10)
        async with instance(stack, tmp_path, fake, pacer, _token(), in_flight=4) as bot:
            watched = WatchedSender(bot.delivery.sender)
            bot.delivery.sender = watched
            members = range(7001, 7013)
            await bot.add_members(members)
            for n in (1, 2, 3):
                await bot.broadcast(f"news-{n}", f"News {n}")

            report = await bot.delivery.drain()

    assert report.sent == 36
    assert 2 <= watched.most_in_flight <= 4  # the sends overlapped, within the bound
    assert watched.most_in_one_chat == 1
    for chat in members:
        assert [m.text for m in fake.chat_messages(chat)] == ["News 1", "News 2", "News 3"]
        starts = watched.started[chat]
        assert all(b - a >= 0.09 for a, b in itertools.pairwise(starts)), starts


async def test_a_send_refused_outright_gives_its_slot_back(tmp_path: Path) -> None:
    rate = 20
    async with (
        FakeBotAPI(auto_create_chats=True, rate_limit_per_sec=rate) as fake,
        AsyncExitStack() as stack,
    ):
        pacer = Pacer(rate, per_chat_rate=1)
        async with instance(stack, tmp_path, fake, pacer, _token(), in_flight=4) as bot:
            members = range(8001, 8001 + 2 * rate)
            await bot.add_members(members)
            for chat in members[::2]:  # every other member blocked the bot
                fake.block(chat)
            await bot.broadcast("half", "Hello")

            report = await bot.delivery.drain()

    assert (report.sent, report.blocked, report.rate_limited) == (rate, rate, 0)
    sends = fake.requests_for("sendMessage")
    first_window = [r for r in sends if r.at - sends[0].at < pacer.window.window]
    # Had each 403 spent a slot, about `rate` requests would fit in the first window;
    # given back, they leave room for nearly all of them.
    assert len(first_window) >= rate * 3 // 2, len(first_window)
    assert fake.most_counted_within(1.0) <= rate
    assert fake.stats["429"] == 0


async def test_retry_after_holds_back_the_sends_already_waiting(tmp_path: Path) -> None:
    async with (
        FakeBotAPI(auto_create_chats=True, latency=0.02) as fake,
        AsyncExitStack() as stack,
    ):
        pacer = Pacer(1000, per_chat_rate=1000)
        async with instance(stack, tmp_path, fake, pacer, _token(), in_flight=4) as bot:
            await bot.add_members(range(9001, 9041))
            fake.inject("sendMessage", chat_id=9005, status=429, retry_after=1)
            await bot.broadcast("pause", "Hello")

            report = await bot.delivery.drain()

            async with bot.app.ctx.session_factory() as session:
                progress = await broadcast_progress(session, "pause")
    assert (report.sent, report.rate_limited) == (40, 1)
    assert (progress.delivered, progress.pending) == (40, 0)
    sends = fake.requests_for("sendMessage")
    refused = next(r for r in sends if r.status == 429)
    answered = refused.answered_at
    assert answered is not None
    # Sends already in flight when the 429 came back were sent before it; none after it
    # until retry_after had passed, and the refused message went once, after the pause.
    # (The 429 reaches the bot 10 ms after it left; a send let go just before that
    # reaches the fake 10 ms later still.)
    arrived_in_pause = [r for r in sends if answered + 0.03 < r.at < answered + 1.0]
    assert arrived_in_pause == []
    assert fake.stats["accepted"][9005] == 1


class VirtualTime:
    """Time for the pacer's window, pause and chat gaps that moves only when it sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_chats_gap_counts_from_its_last_permit_not_from_the_wait_before() -> None:
    clock = VirtualTime()
    pacer = Pacer(1000, per_chat_rate=1, monotonic=clock.monotonic, sleep=clock.sleep)
    await pacer.pause(5)  # a 429: the first permit waits 5 s, after its chat was free

    await pacer.acquire(7)
    first = clock.now
    await pacer.acquire(8)  # another chat: no gap to wait
    other = clock.now
    await pacer.acquire(7)
    second = clock.now

    assert first == pytest.approx(105.0)
    assert other == pytest.approx(first)
    assert second - first == pytest.approx(1.0)


async def test_the_window_holds_the_rate_and_a_given_back_permit_frees_its_place() -> None:
    clock = VirtualTime()
    pacer = Pacer(10, per_chat_rate=1000, monotonic=clock.monotonic, sleep=clock.sleep)
    permits = [await pacer.acquire(chat) for chat in range(10)]
    started = clock.now
    await pacer.give_back(permits[3])  # refused outright: Telegram sent nothing

    await pacer.acquire(10)  # takes the freed place at once
    assert clock.now == started
    await pacer.acquire(11)  # the window is full: wait for its oldest permit to leave
    assert clock.now == pytest.approx(started + pacer.window.window)


def test_the_window_counts_a_second_and_a_guard() -> None:
    pacer = Pacer(30, per_chat_rate=1)
    assert (pacer.window.cap, pacer.window.window) == (30, 1.05)
    assert pacer.spacing == pytest.approx(1.05 / 30)
    slow = Pacer(0.5, per_chat_rate=1)  # one message every two seconds
    assert (slow.window.cap, slow.window.window) == (1, 2.05)


# --------------------------------------------------------------------------- Redis


@pytest.mark.redis
async def test_two_instances_share_one_limit_over_redis(tmp_path: Path) -> None:
    rate, members = 60, 75  # each alone would send its 75 in about a second
    token = _token()
    async with (
        FakeBotAPI(auto_create_chats=True, rate_limit_per_sec=rate, latency=0.02) as fake,
        AsyncExitStack() as stack,
    ):
        bots = []
        for n in (1, 2):
            redis = pacer_redis(os.environ["TEST_REDIS_URL"])
            stack.push_async_callback(redis.aclose)
            pacer = SharedPacer(redis, int(token.split(":")[0]), Pacer(rate, 1))
            bot = await stack.enter_async_context(
                instance(stack, tmp_path / str(n), fake, pacer, token, in_flight=4)
            )
            await bot.add_members(range(n * 10_000, n * 10_000 + members))
            await bot.broadcast("shared", "Hello")
            bots.append(bot)

        reports = await asyncio.gather(*(bot.delivery.drain() for bot in bots))

    assert [r.sent for r in reports] == [members, members]
    assert fake.stats["accepted_total"] == 2 * members
    assert fake.stats["429"] == 0
    # Together never over the limit in any one second, and the limit was what they shared.
    assert rate * 3 // 4 <= fake.most_counted_within(1.0) <= rate


@pytest.mark.redis
async def test_retry_after_seen_by_one_instance_pauses_the_other() -> None:
    bot_id = random.randrange(10**8, 10**9)
    clients = [pacer_redis(os.environ["TEST_REDIS_URL"]) for _ in range(2)]
    try:
        one, other = (SharedPacer(c, bot_id, Pacer(1000, 1000)) for c in clients)
        permit = await one.acquire(1)
        await one.give_back(permit)  # Telegram answered 429: nothing was sent
        await one.pause(0.5)

        started = time.monotonic()
        await other.acquire(2)
        waited = time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()
    assert 0.4 <= waited < 1.5


@pytest.mark.redis
async def test_shared_window_caps_permits_across_instances() -> None:
    bot_id = random.randrange(10**8, 10**9)
    clients = [pacer_redis(os.environ["TEST_REDIS_URL"]) for _ in range(2)]
    granted: list[float] = []
    try:
        pacers = [SharedPacer(c, bot_id, Pacer(50, 1000)) for c in clients]

        async def take(pacer: SharedPacer, chats: range) -> None:
            for chat in chats:
                permit = await pacer.acquire(chat)
                granted.append(time.monotonic())
                if chat % 4 == 0:  # refused outright: its slot comes back
                    await pacer.give_back(permit)
                    granted.pop()

        await asyncio.gather(take(pacers[0], range(0, 60)), take(pacers[1], range(100, 160)))
    finally:
        for client in clients:
            await client.aclose()
    granted.sort()
    most = max(sum(1 for b in granted if a <= b < a + 1.0) for a in granted)
    assert most <= 50


async def test_redis_down_falls_back_to_this_process_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 9 of the loopback: every Redis call fails at once.
    redis = pacer_redis("redis://127.0.0.1:9/0")
    pacer = SharedPacer(redis, 4242, Pacer(20, 1000))
    caplog.set_level(logging.WARNING, logger="delivery.shared_pacer")
    try:
        started = time.monotonic()
        permits = [await pacer.acquire(chat) for chat in range(25)]
        elapsed = time.monotonic() - started
        await pacer.pause(0.3)
        await pacer.give_back(permits[-1])
        paused = time.monotonic()
        await pacer.acquire(99)
        after_pause = time.monotonic() - paused
    finally:
        await redis.aclose()

    assert pacer.redis_down
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis did not answer" in warnings[0]
    # Still paced: 25 permits at 20 in any 1.05 s need the window to move on once.
    assert elapsed >= 1.0
    assert after_pause >= 0.25
