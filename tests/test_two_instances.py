"""Two real bot processes in webhook mode behind one "load balancer" (updates alternate
between them), sharing one PostgreSQL and one Redis: dialogues hop between processes and
still complete (FSM state in Redis); each outbox row is sent by exactly one of them
(FOR UPDATE SKIP LOCKED claims); kill -9 one mid-broadcast and the other finishes it once
the dead one's leases run out."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bench.seed import seed_members
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Meeting, Member, OutboxMessage
from ground.clock import FixedClock
from sandbox.fake_api import FakeBotAPI
from tests.club import Club
from tests.webhook_club import SECRET, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:two-instances-token"
MEMBERS = 600
FIRST_ID = 20_000
DIALOGUES = 6
LEASE_SECONDS = 3
IN_FLIGHT = 4  # sends each instance keeps in flight (SEND_IN_FLIGHT)


@dataclass
class _Ctx:
    session_factory: Any


@dataclass
class _App:
    ctx: _Ctx


def _spawn(fake: FakeBotAPI, url: str, port: int, workdir: Path) -> Any:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake.base_url,
        "DATABASE_URL": url,
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
        "WEBHOOK_SECRET": SECRET,
        "WEB_PORT": str(port),
        "SEND_RATE_GLOBAL": "300",  # shared by both over Redis
        "SEND_IN_FLIGHT": str(IN_FLIGHT),
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "ADMIN_IDS": "900",
        "THROTTLE_RATE": "1000",
        "THROTTLE_BURST": "1000",
        "LOG_LEVEL": "WARNING",
    }
    workdir.mkdir(exist_ok=True)
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _ready(port: int, timeout: float = 60) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"instance on port {port} never became healthy")
            await asyncio.sleep(0.2)


async def _balance(fake: FakeBotAPI, urls: list[str]) -> None:
    """The load balancer: each push of pending updates goes to the next instance."""
    turn = 0
    while True:
        if fake.pending_updates:
            fake.webhook["url"] = urls[turn % len(urls)]
            turn += 1
            await fake.deliver_to_webhook()
        else:
            await fake.wait_change(0.5)


async def _seed(url: str) -> None:
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session:
        session.add(Meeting(uid="two@test", starts_at=now + timedelta(days=3)))
        await seed_members(
            session, range(FIRST_ID, FIRST_ID + MEMBERS), locale="ru", name="M{i}", at=now
        )
        await session.commit()
    await engine.dispose()


async def _broadcast(factory: Any, number: int) -> None:
    async with factory() as session:
        ids = list(
            await session.scalars(
                select(Member.id).where(Member.telegram_id.between(20_000, 29_999))
            )
        )
        session.add_all(
            OutboxMessage(
                member_id=member_id,
                kind=f"broadcast:{number}",
                payload=json.dumps({"text": f"broadcast {number}"}),
                due_at=datetime.now(UTC) - timedelta(seconds=1),
            )
            for member_id in ids
        )
        await session.commit()


def _got(fake: FakeBotAPI, text: str) -> Counter[int]:
    return Counter(
        int(r.params["chat_id"])
        for r in fake.requests_for("sendMessage")
        if r.params.get("text") == text
    )


async def test_two_webhook_instances_share_dialogues_and_deliveries(
    tmp_path: Path, database_url: str
) -> None:
    await _seed(database_url)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    ports = [free_port(), free_port()]
    async with FakeBotAPI() as fake:
        procs = [
            await _spawn(fake, database_url, port, tmp_path / f"i{n}")
            for n, port in enumerate(ports)
        ]
        balancer: asyncio.Task[None] | None = None
        try:
            await asyncio.gather(*(_ready(port) for port in ports))
            await fake.wait_for(lambda: len(fake.requests_for("setWebhook")) >= 2, 30)
            assert not fake.requests_for("deleteWebhook")
            balancer = asyncio.create_task(
                _balance(fake, [f"http://127.0.0.1:{port}/tg/hook" for port in ports])
            )

            # Dialogues: consecutive steps of one member land on alternating processes.
            club = Club(
                fake=fake,
                app=_App(_Ctx(factory)),
                clock=FixedClock(datetime.now(UTC)),
                settings=None,
            )  # type: ignore[arg-type]
            users = [club.user(30_000 + i, first_name=f"U{i}") for i in range(DIALOGUES)]
            members = await asyncio.gather(*(club.register(u) for u in users))
            assert all(m.is_registered for m in members)

            # A broadcast both instances deliver: every row once, by exactly one of them.
            await _broadcast(factory, 1)
            await fake.wait_for(lambda: len(_got(fake, "broadcast 1")) >= MEMBERS, 60)
            await asyncio.sleep(LEASE_SECONDS + 2.5)  # leases run out; nothing more may come
            once = _got(fake, "broadcast 1")
            assert set(once) == {20_000 + i for i in range(MEMBERS)}
            assert max(once.values()) == 1, "a row was sent twice"

            # Kill -9 one instance mid-broadcast: the other takes its rows after the lease.
            await _broadcast(factory, 2)
            await fake.wait_for(lambda: len(_got(fake, "broadcast 2")) >= 100, 60)
            procs[0].send_signal(signal.SIGKILL)
            await procs[0].wait()
            assert len(_got(fake, "broadcast 2")) < MEMBERS, "the kill came too late"
            await fake.wait_for(lambda: len(_got(fake, "broadcast 2")) >= MEMBERS, 90)
            await asyncio.sleep(LEASE_SECONDS + 2.5)
            second = _got(fake, "broadcast 2")
            assert set(second) == {20_000 + i for i in range(MEMBERS)}
            # Only the messages in flight at the kill may repeat.
            assert sum(n - 1 for n in second.values()) <= IN_FLIGHT
            async with factory() as session:
                unsent = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.dropped.is_(False),
                        OutboxMessage.due_at <= datetime.now(UTC),  # not future reminders
                    )
                )
            assert unsent == 0
        finally:
            if balancer is not None:
                balancer.cancel()
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.wait_for(proc.wait(), timeout=20)
            await engine.dispose()
