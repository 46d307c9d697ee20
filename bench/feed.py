"""Calendar feed throughput against a static file of the same size, same aiohttp app.

    .venv/bin/python -m bench.feed            # 24 meetings, 3,000 members, 5 s per case
    .venv/bin/python -m bench.feed --quick    # a smoke run
    .venv/bin/python -m bench.feed --write    # also record the figures in docs/benchmarks.md

The server runs in its own process (so the client's CPU does not flatter the ratios):
the production `build_web_app` on a migrated SQLite file, plus a static route added only
here, serving a file with exactly the bytes of the member's feed. The client, on
loopback, runs `--clients` concurrent aiohttp workers per case; cases are interleaved over
`--rounds` rounds and the best round of each is kept. Cases: static 200, static 304
(If-None-Match), feed 200 (rendered body cached by ETag), feed 304 (no rendering), each
feed case once for one member's token and once for `--members` distinct tokens (members in
ru/en/zh, every request the next token in turn: thousands of calendar apps polling). The
many-token rates are reported as ratios to the one-token rates of the same run. Before
loading, the client fetches every token once, as each app would have by then. Every
response's status and length is checked. The render time of a 120-meeting feed is timed
separately (pure function, median of repeats).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Calendar feed (bench/feed.py)"
NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)


# --------------------------------------------------------------------------- server process


LOCALES = ("ru", "en", "zh")


async def _seed(url: str, meetings: int, members: int) -> tuple[str, list[str]]:
    from bench.seed import seed_members
    from db.engine import create_engine, create_session_factory
    from db.migrate import upgrade_to_head
    from db.models import Member
    from scheduling.feeds.store import ensure_token, new_token
    from scheduling.meetings.lifecycle import create_meeting, set_link

    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        member = Member(
            telegram_id=1, locale="ru", name="Bench", zone="Asia/Harbin",
            registered_at=NOW, consent_at=NOW,
        )  # fmt: skip
        session.add(member)
        await session.commit()
        token = await ensure_token(session, member)
        await session.commit()
        # Monthly-ish club life: most meetings in the past year, a few coming.
        past = NOW - timedelta(days=360)
        step = timedelta(days=400 // max(meetings, 1))
        for n in range(meetings):
            created = past + step * n - timedelta(days=20)
            m = await create_meeting(
                session, past + step * n, now=created, theme=f"Тема {n}: Харбин, 哈尔滨 🏮"
            )
            await session.commit()
            await set_link(session, m, f"https://meet.example.org/j/{n}", now=created)
            await session.commit()
        tokens = [new_token() for _ in range(members)]
        await seed_members(
            session,
            range(1000, 1000 + members),
            at=NOW,
            vary=lambda i, _tid: {"locale": LOCALES[i % 3], "feed_token": tokens[i]},
        )
        await session.commit()
    await engine.dispose()
    return token, tokens


async def _serve(conn: Any, meetings: int, members: int) -> None:
    from db.engine import create_engine, create_session_factory
    from ground.clock import FixedClock
    from ground.context import AppContext
    from ground.settings import load_settings
    from handlers.i18n import build_i18n
    from web.app import build_web_app, start_web
    from web.feeds import FEEDS_KEY

    tmp = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    url = f"sqlite+aiosqlite:///{tmp / 'club.sqlite3'}"
    token, tokens = await _seed(url, meetings, members)
    engine = create_engine(url)
    ctx = AppContext(
        settings=load_settings(_env_file=None, database_url=url, default_locale="ru"),
        session_factory=create_session_factory(engine),
        i18n=build_i18n("ru"),
        clock=FixedClock(NOW),
    )
    app = build_web_app(ctx)
    static_dir = tmp / "static"
    static_dir.mkdir()
    app.router.add_static("/static", static_dir)  # the bench's baseline only
    runner = await start_web(ctx, "127.0.0.1", 0, app=app)
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/feed/{token}.ics") as response,
    ):
        body = await response.read()
    (static_dir / "feed.ics").write_bytes(body)
    conn.send({"base": base, "token": token, "tokens": tokens, "size": len(body)})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
    feeds = app[FEEDS_KEY]
    conn.send({"renders": feeds.renders, "queries": feeds.queries})
    await runner.cleanup()
    await engine.dispose()


def _server_main(conn: Any, meetings: int, members: int) -> None:
    asyncio.run(_serve(conn, meetings, members))


# --------------------------------------------------------------------------- client


@dataclass
class Request:
    url: URL  # parsed once here: the client's own parsing of 3,000 addresses is not the server's
    headers: dict[str, str]
    status: int
    length: int


@dataclass
class Case:
    """One kind of load: its requests are sent in turn, round and round."""

    name: str
    requests: list[Request]


def _single(name: str, url: str, headers: dict[str, str], status: int, length: int) -> Case:
    return Case(name, [Request(URL(url), headers, status, length)])


async def _load(
    http: aiohttp.ClientSession, case: Case, clients: int, seconds: float, cap: int
) -> float:
    """Requests per second for one case: `clients` workers until time or count runs out."""
    done = 0
    turn = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, turn
        while done < cap and time.perf_counter() < deadline:
            request = case.requests[turn % len(case.requests)]
            turn += 1
            async with http.get(request.url, headers=request.headers) as response:
                data = await response.read()
                if response.status != request.status or len(data) != request.length:
                    raise SystemExit(f"{case.name}: got {response.status}, {len(data)} bytes")
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return done / (time.perf_counter() - start)


async def _client(info: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    base, token, size = info["base"], info["token"], info["size"]
    connector = aiohttp.TCPConnector(limit=args.clients)
    async with aiohttp.ClientSession(
        connector=connector, skip_auto_headers=["Accept-Encoding"]
    ) as http:
        etags = {}
        for path in ("/static/feed.ics", f"/feed/{token}.ics"):
            async with http.get(base + path) as response:
                await response.read()
                etags[path] = response.headers["ETag"]
        feed, static = f"/feed/{token}.ics", "/static/feed.ics"
        many_200, many_304 = await _many(http, base, info["tokens"])
        cases = [
            _single("static 200", base + static, {}, 200, size),
            _single("feed 200", base + feed, {}, 200, size),
            many_200,
            _single("static 304", base + static, {"If-None-Match": etags[static]}, 304, 0),
            _single("feed 304", base + feed, {"If-None-Match": etags[feed]}, 304, 0),
            many_304,
        ]
        for case in cases:  # warm up
            await _load(http, case, args.clients, 1.0, 200)
        best: dict[str, float] = {}
        for _round in range(args.rounds):
            for case in cases:
                rate = await _load(http, case, args.clients, args.seconds, args.cap)
                best[case.name] = max(best.get(case.name, 0.0), rate)
    return best


async def _many(http: aiohttp.ClientSession, base: str, tokens: list[str]) -> tuple[Case, Case]:
    """The many-token cases; fetching each feed once first, as every app would have."""
    plain: list[Request] = []
    conditional: list[Request] = []
    for token in tokens:
        path = f"/feed/{token}.ics"
        async with http.get(base + path) as response:
            body = await response.read()
            if response.status != 200:
                raise SystemExit(f"first fetch of a member's feed: {response.status}")
            etag = response.headers["ETag"]
        url = URL(base + path)
        plain.append(Request(url, {}, 200, len(body)))
        conditional.append(Request(url, {"If-None-Match": etag}, 304, 0))
    n = f"{len(tokens):,}"
    return Case(f"feed 200, {n} tokens", plain), Case(f"feed 304, {n} tokens", conditional)


def _render_time(meetings: int, repeats: int) -> tuple[float, int]:
    from types import SimpleNamespace

    from scheduling.feeds.calendar import render_calendar

    rows = [
        SimpleNamespace(
            id=n, uid=f"{n:04d}-bench@harbin-club", starts_at=NOW + timedelta(days=3 * n - 180),
            duration_min=90, theme=f"Тема {n}: Харбин, 哈尔滨 🏮", status="scheduled",
            link=f"https://meet.example.org/j/{n}", cancel_reason=None, sequence=n % 3,
            created_at=NOW - timedelta(days=400), updated_at=NOW - timedelta(days=1),
        )
        for n in range(meetings)
    ]  # fmt: skip
    times = []
    body = b""
    for _ in range(repeats):
        start = time.perf_counter()
        body = render_calendar(rows, lambda s: s, "private")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, len(body)


# --------------------------------------------------------------------------- report


def _write_doc(text: str) -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    head, sep, rest = current.partition(SECTION)
    if sep:
        # Keep the sections after ours.
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1 :] if nxt >= 0 else ""
        current = head + text + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=24)
    parser.add_argument("--members", type=int, default=3000, help="distinct feed tokens")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cap", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.cap = 1.0, 1, 2_000

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(
        target=_server_main, args=(child, args.meetings, args.members), daemon=True
    )
    server.start()
    child.close()  # so a crashed server shows as EOF here instead of a hang
    try:
        info = parent.recv()
        rates = asyncio.run(_client(info, args))
        parent.send("stop")
        counters = parent.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    render_ms, render_size = _render_time(120, 5 if args.quick else 30)

    r200 = rates["feed 200"] / rates["static 200"]
    r304 = rates["feed 304"] / rates["static 304"]
    n = f"{args.members:,}"
    many200 = rates[f"feed 200, {n} tokens"] / rates["feed 200"]
    many304 = rates[f"feed 304, {n} tokens"] / rates["feed 304"]
    lines = [
        SECTION,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}; "
        f"server in its own process, {args.clients} concurrent clients on loopback, best of "
        f"{args.rounds} rounds of {args.seconds:g} s per case. Feed: {args.meetings} meetings, "
        f"{info['size']} bytes; the static file has the same bytes. {n} other members "
        "(ru, en, zh) each with a token.",
        "",
        "| case | requests/s |",
        "|---|---:|",
        *(f"| {name} | {rate:,.0f} |" for name, rate in rates.items()),
        "",
        f"- feed 200 / static 200: **{r200:.2f}** (aim >= 0.5)",
        f"- feed 304 / static 304: **{r304:.2f}** (aim >= 0.8)",
        f"- feed 200, {n} tokens / feed 200, one token: **{many200:.2f}** (aim >= 0.5)",
        f"- feed 304, {n} tokens / feed 304, one token: **{many304:.2f}** (aim >= 0.5)",
        f"- bodies rendered by the server during the whole run: {counters['renders']}; "
        f"database round trips: {counters['queries']:,}",
        f"- render of a 120-meeting feed ({render_size} bytes): {render_ms:.2f} ms (median)",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        _write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
