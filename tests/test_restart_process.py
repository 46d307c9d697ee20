"""Kill -9 the real bot process in the middle of a 1,000-member reminder, start it again:
everyone gets the reminder, and only messages that were in flight at the kill (at most
SEND_IN_FLIGHT) are repeated.

The fake Bot API answers after a round trip, so the bot keeps several sends in flight, as
it does over a real network."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.seed import seed_members
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Meeting, OutboxMessage
from sandbox.fake_api import FakeBotAPI, RecordedRequest

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = 1000
FIRST_ID = 10_000
TOKEN = "123456:restart-test-token"
IN_FLIGHT = 6
ROUND_TRIP = 0.04  # seconds: at 400 messages/s, enough to keep all IN_FLIGHT lanes busy


async def _prepare(url: str) -> None:
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session:
        meeting = Meeting(
            uid="restart@test",
            starts_at=now + timedelta(minutes=50),
            link="https://meet.jit.si/harbin",
        )
        session.add(meeting)
        await session.flush()
        members = await seed_members(
            session, range(FIRST_ID, FIRST_ID + MEMBERS), locale="ru", name="M{i}", at=now
        )
        # Due ten minutes ago, while "the bot was down": still useful, the meeting is ahead.
        session.add_all(
            OutboxMessage(
                meeting_id=meeting.id,
                member_id=member_id,
                kind="remind:1h",
                due_at=now - timedelta(minutes=10),
            )
            for member_id in members
        )
        await session.commit()
    await engine.dispose()


def _bot_process(fake: FakeBotAPI, url: str, workdir: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake.base_url,
        "DATABASE_URL": url,
        "SEND_RATE_GLOBAL": "400",
        "SEND_IN_FLIGHT": str(IN_FLIGHT),
        "LOG_LEVEL": "WARNING",
        "WEB_PORT": "0",  # any free port: the feed server runs in the same process
    }
    return asyncio.create_subprocess_exec(  # type: ignore[return-value]
        sys.executable,
        "-m",
        "bot",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def _delivered(fake: FakeBotAPI) -> Counter[int]:
    return Counter(int(r.params["chat_id"]) for r in fake.requests_for("sendMessage"))


def _most_at_once(requests: list[RecordedRequest]) -> int:
    """The most sends the fake was handling at one moment (arrived, answer not yet left)."""
    events = sorted(
        [(r.at, 1) for r in requests] + [(r.answered_at or r.at, -1) for r in requests],
        key=lambda event: (event[0], event[1]),
    )
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


async def test_kill_9_mid_reminder_then_restart(tmp_path: Path, database_url: str) -> None:
    url = database_url
    await _prepare(url)
    async with FakeBotAPI(latency=ROUND_TRIP) as fake:
        first = await _bot_process(fake, url, tmp_path)
        await fake.wait_for(lambda: len(fake.requests_for("sendMessage")) >= 300, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = sum(_delivered(fake).values())
        assert at_kill < MEMBERS, "the kill came too late to test anything"
        overlapping = _most_at_once(fake.requests_for("sendMessage"))

        second = await _bot_process(fake, url, tmp_path)
        try:
            await fake.wait_for(lambda: len(_delivered(fake)) >= MEMBERS, timeout=90)
            await asyncio.sleep(2.5)  # one more delivery tick: nothing further may arrive
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=20)

    # The killed process kept several sends in flight, never more than its bound.
    assert 2 <= overlapping <= IN_FLIGHT, f"{overlapping} sends at once"
    counts = _delivered(fake)
    lost = set(range(FIRST_ID, FIRST_ID + MEMBERS)) - set(counts)
    assert not lost, f"{len(lost)} members never got the reminder"
    # Only a message in flight at the kill (sent, not yet marked sent) can go out twice.
    repeated = [chat for chat, n in counts.items() if n > 1]
    assert len(repeated) <= IN_FLIGHT, f"repeated to {len(repeated)} members"
    assert all(n <= 2 for n in counts.values())
