"""Scale benchmark: updates per second in webhook mode with one bot process and with two,
on one PostgreSQL (and one Redis), measured in the same run; then the outbox delivery rate
of a broadcast both processes send.

Each instance is a real `python -m bot` process in webhook mode. The fake Bot API runs in
this process, answers the bots' calls and plays Telegram's side of the webhook: it POSTs
`/me` updates from registered members with the secret, 32 in flight, alternating between
instances (a round-robin load balancer). A run ends when every update got its reply.

    scripts/postgres.sh; scripts/redis.sh        # loopback servers (the URLs they print)
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:55432/harbin \\
    BENCH_REDIS_URL=redis://127.0.0.1:56379/0 .venv/bin/python -m bench.scale
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.seed import seed_members
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member, OutboxMessage
from sandbox.fake_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:scale-bench-token"
SECRET = "scale-bench-secret-0123456789"
FIRST_ID = 50_000
LOCALES = ("ru", "en", "zh")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _libpq(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_libpq(url, make_url(url).database or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed(url: str, members: int) -> None:
    await upgrade_to_head(url)
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        await seed_members(
            session,
            range(FIRST_ID, FIRST_ID + members),
            zone="Asia/Shanghai",
            vary=lambda i, _telegram_id: {"locale": LOCALES[i % len(LOCALES)]},
        )
        await session.commit()
    await engine.dispose()


async def _spawn(fake: FakeBotAPI, db: str, redis: str | None, port: int, work: Path) -> Any:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake.base_url,
        "DATABASE_URL": db,
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
        "WEBHOOK_SECRET": SECRET,
        "WEB_PORT": str(port),
        "SEND_RATE_GLOBAL": "2000",
        "THROTTLE_RATE": "100000",
        "THROTTLE_BURST": "100000",
        "LOG_LEVEL": "ERROR",
    }
    if redis:
        env["REDIS_URL"] = redis
    os.makedirs(work, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=work,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,  # shutdown noise; failures show as timeouts
    )


async def _ready(ports: Sequence[int]) -> None:
    async with aiohttp.ClientSession() as http:
        for port in ports:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise SystemExit(f"instance on port {port} did not start")


def _update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "M"},
            "from": {"id": user_id, "is_bot": False, "first_name": "M", "language_code": "en"},
            "text": "/me",
            "entities": [{"type": "bot_command", "offset": 0, "length": 3}],
        },
    }


async def _updates_run(
    fake: FakeBotAPI, ports: Sequence[int], members: int, count: int, in_flight: int, base: int
) -> float:
    """Push `count` /me updates round-robin to the instances; seconds until all replied."""
    urls = [f"http://127.0.0.1:{port}/tg/hook" for port in ports]
    before = len(fake.requests_for("sendMessage"))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as http:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                update = _update(base + n, FIRST_ID + n % members)
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with http.post(urls[n % len(urls)], json=update, headers=headers) as r:
                    if r.status != 200:
                        raise SystemExit(f"webhook answered {r.status}")

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    await fake.wait_for(
        lambda: len(fake.requests_for("sendMessage")) - before >= count, 600, "all replies"
    )
    return time.perf_counter() - started


async def _broadcast_run(fake: FakeBotAPI, db: str, members: int) -> float:
    engine = create_engine(db)
    factory = create_session_factory(engine)
    async with factory() as session:
        ids = list(await session.scalars(select(Member.id)))
        session.add_all(
            OutboxMessage(
                member_id=member_id,
                kind="broadcast:bench",
                payload=json.dumps({"text": "scale bench broadcast"}),
                due_at=datetime.now(UTC) - timedelta(seconds=1),
            )
            for member_id in ids
        )
        await session.commit()
    await engine.dispose()
    started = time.perf_counter()

    def done() -> bool:
        sent = fake.requests_for("sendMessage")
        return sum(r.params.get("text") == "scale bench broadcast" for r in sent) >= members

    await fake.wait_for(done, 600, "the broadcast")
    return time.perf_counter() - started


async def _scenario(
    server: str, redis: str | None, instances: int, args: argparse.Namespace, work: Path
) -> tuple[float, float]:
    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    db = make_url(server).set(database=name).render_as_string(hide_password=False)
    procs: list[Any] = []
    try:
        await _seed(db, args.members)
        async with FakeBotAPI() as fake:
            for i in range(args.members):
                fake.user(FIRST_ID + i, first_name="M")
            ports = [_free_port() for _ in range(instances)]
            for n, port in enumerate(ports):
                procs.append(await _spawn(fake, db, redis, port, work / f"{instances}-{n}"))
            await _ready(ports)
            await _updates_run(fake, ports, args.members, args.warmup, args.in_flight, 1)
            seconds = await _updates_run(
                fake, ports, args.members, args.updates, args.in_flight, 1_000_000
            )
            broadcast = await _broadcast_run(fake, db, args.members)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await proc.wait()
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return args.updates / seconds, args.members / broadcast


async def main_async(args: argparse.Namespace) -> None:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        raise SystemExit("set BENCH_DATABASE_URL (scripts/postgres.sh prints one)")
    redis = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp:
        one = await _scenario(server, redis, 1, args, Path(tmp))
        two = await _scenario(server, redis, 2, args, Path(tmp))
    print(
        f"{args.updates} /me updates, {args.in_flight} in flight, {args.members} members; "
        f"PostgreSQL{' + Redis' if redis else ''}; {os.cpu_count()} CPUs\n"
    )
    print("instances  updates/s  broadcast msg/s")
    print(f"1          {one[0]:9.1f}  {one[1]:15.1f}")
    print(f"2          {two[0]:9.1f}  {two[1]:15.1f}")
    print(f"\nratio two/one: updates {two[0] / one[0]:.2f}, broadcast {two[1] / one[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--updates", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=32)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
