"""The web archive with 10,000 published memoirs: server-side latency of the collection page
and of searches, against /healthz and a static file in the same run, and the bytes the
first view of the collection transfers.

    .venv/bin/python -m bench.web                 # 10,000 memoirs, 300 requests per case
    .venv/bin/python -m bench.web --quick         # a smoke run (1,000 memoirs, 60 requests)
    .venv/bin/python -m bench.web --database-url postgresql+asyncpg://...   # on PostgreSQL

The production `build_web_app` serves a migrated database filled in bulk (every memoir
approved, a third with a photo, one in ten with a recording, the author's consent to the
web "named" or "anonymous"; the search index filled by the database's own triggers or
GIN index). Server-side time is measured by a middleware around each handler (the client
on the same loop does not count). Cases are interleaved, one request at a time, each
request a different page, filter or query; searches come from changing addresses
(X-Forwarded-For over loopback), so the per-address limit never answers 429.

The first view is measured in Debian's headless Chromium when it is installed (the sum of
`transferSize` of the page and everything it loaded, at 1280×800 and at 390×844, cache
empty); otherwise from the server's own bytes (gzip HTML, stylesheet, script, the 320 px
thumbnails of the first eight cards).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
WORDS_RU = [
    "Сунгари",
    "лёд",
    "ёлка",
    "Китайская",
    "улица",
    "собор",
    "гимназия",
    "вокзал",
    "пристань",
    "Модягоу",
    "мама",
    "отец",
    "каток",
]
WORDS_EN = [
    "school",
    "river",
    "winter",
    "summer",
    "cathedral",
    "station",
    "market",
    "church",
    "tram",
    "bridge",
]
WORDS_ZH = ["哈尔滨", "松花江", "中央大街", "教堂", "冬天", "学校", "火车站", "码头"]
PLACES = ["Китайская улица", "Пристань", "Новый город", "Модягоу", "中央大街", "Old Town", None]
THEMES = ["Зима", "Школа", "Праздники", "Семья", "Работа", None]
QUERIES = [
    "елка",
    "сунгари",
    "гимназ",
    "school",
    "cathedral",
    "winter river",
    "哈尔滨",
    "松花江",
    "中央大街",
    "教堂 冬天",
    "вокзал пристань",
    "ЁЛКА",
]


def _photo(n: int) -> bytes:
    """A picture that compresses about as a photograph of an old print does (blurred
    noise over a tint), not a flat colour a JPEG shrinks to nothing."""
    grain = Image.effect_noise((1600, 1200), 48).filter(ImageFilter.GaussianBlur(1.5))
    tint = Image.new("RGB", (1600, 1200), (n * 37 % 256, n * 91 % 256, n * 53 % 256))
    image = Image.blend(tint, grain.convert("RGB"), 0.6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def fill(url: str, media: Path, count: int, rng: random.Random) -> None:
    from sqlalchemy import insert, text

    from archive.search import SEARCH_VERSION, document
    from db.engine import create_engine, create_session_factory
    from db.media import KIND_PHOTO, KIND_VOICE, MediaStore
    from db.migrate import upgrade_to_head
    from db.models import MediaFile, Memoir
    from tests.web_club import recording

    await upgrade_to_head(url)
    store = MediaStore(media)
    photos = [
        store.put_bytes(_photo(n), kind=KIND_PHOTO, mime_type="image/jpeg") for n in range(40)
    ]
    voice = store.put_bytes(recording(), kind=KIND_VOICE, mime_type="audio/wav")
    engine = create_engine(url)
    factory = create_session_factory(engine)
    async with factory() as session:
        for start in range(0, count, 1000):
            rows = []
            for n in range(start, min(count, start + 1000)):
                words = [rng.choice(WORDS_RU + WORDS_EN) for _ in range(50)]
                body = " ".join(words) + " " + "".join(rng.choice(WORDS_ZH) for _ in range(8))
                fields = {
                    "title": f"Воспоминание {n}" if n % 5 else None,
                    "body": body,
                    "decade": 1900 + 10 * (n % 7),
                    "year": None,
                    "place": PLACES[n % len(PLACES)],
                    "people": None,
                    "theme": THEMES[n % len(THEMES)],
                    "author_name": f"Автор {n % 97}",
                }
                rows.append(
                    {
                        **fields,
                        "member_id": None,
                        "status": "approved",
                        "web_consent": "named" if n % 3 else "anonymous",
                        "search_text": document(
                            [
                                fields["title"],
                                body,
                                fields["place"],
                                fields["theme"],
                                fields["author_name"],
                            ]
                        ),
                        "search_version": SEARCH_VERSION,
                    }
                )
            await session.execute(insert(Memoir), rows)
        await session.commit()
        ids = [
            i
            for (i,) in await session.execute(
                Memoir.__table__.select().with_only_columns(Memoir.id)
            )
        ]
        media_rows = []
        for memoir_id in ids:
            if memoir_id % 3 == 0:
                blob = photos[memoir_id % len(photos)]
                media_rows.append(_media_row(memoir_id, blob, "photo"))
            if memoir_id % 10 == 0:
                media_rows.append(_media_row(memoir_id, voice, "voice"))
        for start in range(0, len(media_rows), 2000):
            await session.execute(insert(MediaFile), media_rows[start : start + 2000])
        await session.commit()
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics for the planner, and the
        # visibility map that lets counts read only the indexes.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


def _media_row(memoir_id: int, blob: Any, kind: str) -> dict[str, Any]:
    return {
        "memoir_id": memoir_id,
        "sha256": blob.sha256,
        "path": blob.path,
        "mime_type": blob.mime_type,
        "size": blob.size,
        "kind": kind,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def measure(url: str, media: Path, requests: int, rng: random.Random) -> dict[str, Any]:
    from datetime import UTC, datetime

    from db.engine import create_engine, create_session_factory
    from ground.clock import FixedClock
    from ground.context import AppContext
    from ground.i18n import Catalogs
    from ground.settings import load_settings
    from web.app import build_web_app

    timings: dict[str, list[float]] = {}

    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        timings.setdefault(request.headers.get("X-Case", "?"), []).append(
            (time.perf_counter() - started) * 1000
        )
        return response

    settings = load_settings(_env_file=None, database_url=url, media_dir=str(media))
    engine = create_engine(url)
    ctx = AppContext(
        settings=settings,
        session_factory=create_session_factory(engine),
        i18n=Catalogs("ru"),
        clock=FixedClock(datetime(2027, 1, 9, tzinfo=UTC)),
    )
    app = build_web_app(ctx, bot_token="123456:bench-token-bench-token")
    app.middlewares.append(timed)  # innermost: the handler's own time
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    cases: list[tuple[str, str]] = []
    for n in range(requests):
        lang = ("ru", "en", "zh")[n % 3]
        page = rng.randrange(1, 40)
        cases.append(("collection", f"/{lang}/?page={page}" if n % 4 else f"/{lang}/"))
        cases.append(
            ("collection filtered", f"/{lang}/?decade={1900 + 10 * (n % 7)}&page={n % 5 + 1}")
        )
        cases.append(("search", f"/{lang}/search?q={rng.choice(QUERIES)}"))
        cases.append(("baseline /healthz", "/healthz"))
        cases.append(("baseline static file", "/static/site.css"))
    sizes: dict[str, int] = {}
    async with aiohttp.ClientSession() as client:
        for _case, path in cases[:10]:  # warm the caches and the connection
            async with client.get(base + path, headers={"X-Case": "warm"}) as r:
                await r.read()
        for n, (case, path) in enumerate(cases):
            headers = {
                "X-Case": case,
                "X-Forwarded-For": f"198.51.{n // 250 % 250}.{n % 250}",
                "Accept-Encoding": "gzip",
            }
            async with client.get(base + path, headers=headers) as response:
                body = await response.read()
                assert response.status == 200, (path, response.status)
                sizes.setdefault(case, len(body))
        first_view = await asyncio.to_thread(_first_view_in_browser, base)
        if first_view is None:
            first_view = await _first_view_from_server(client, base)
    await runner.cleanup()
    await engine.dispose()
    timings.pop("warm", None)
    return {"timings": timings, "first_view": first_view}


def _first_view_in_browser(base: str) -> dict[str, Any] | None:
    try:
        from tests import browser
    except ImportError:
        return None
    if browser.missing() is not None:
        return None
    found: dict[str, Any] = {"how": "Chromium"}
    for width, height in ((1280, 800), (390, 844)):
        chromium = browser.Browser()  # a fresh profile: nothing cached
        try:
            chromium.viewport(width, height)
            chromium.open(base + "/ru/")
            chromium.images_loaded()
            time.sleep(0.3)
            total = chromium.js(
                "const nav = performance.getEntriesByType('navigation')[0];"
                "return nav.transferSize + performance.getEntriesByType('resource')"
                ".reduce((sum, r) => sum + r.transferSize, 0);"
            )
            count = chromium.js("return performance.getEntriesByType('resource').length")
            found[f"{width}"] = (int(total), int(count))
        finally:
            chromium.quit()
    return found


async def _first_view_from_server(client: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    import re

    async with client.get(base + "/ru/") as r:
        html = await r.read()
    total = len(gzip.compress(html))
    text = html.decode()
    for link in re.findall(r'(?:href|src)="(/static/[^"]+)"', text):
        async with client.get(base + link) as r:
            total += len(gzip.compress(await r.read()))
    for src in re.findall(r'<img src="([^"]+)"', text)[:8]:
        async with client.get(base + src) as r:
            total += len(await r.read())
    return {"how": "server bytes", "1280": (total, 0)}


def report(result: dict[str, Any], count: int, database: str) -> str:
    timings = result["timings"]
    base_healthz = _p95(timings["baseline /healthz"])
    base_static = _p95(timings["baseline static file"])
    lines = [
        f"#### {count:,} published memoirs on {database} "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python {sys.version.split()[0]})",
        "",
        "| case | requests | median ms | p95 ms | p95 / healthz p95 | p95 / static p95 | goal |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for case in (
        "collection",
        "collection filtered",
        "search",
        "baseline /healthz",
        "baseline static file",
    ):
        values = timings[case]
        p95 = _p95(values)
        goal = (
            "" if case.startswith("baseline") else ("met" if p95 < 50 else "MISSED") + " (< 50 ms)"
        )
        lines.append(
            f"| {case} | {len(values)} | {statistics.median(values):.2f} | {p95:.2f} | "
            f"{p95 / base_healthz:.2f} | {p95 / base_static:.2f} | {goal} |"
        )
    view = result["first_view"]
    lines += ["", f"First view of `/ru/` ({view['how']}, empty cache):", ""]
    for key, label in (("1280", "1280×800"), ("390", "390×844")):
        if key in view:
            total, count_requests = view[key]
            goal = "met" if total < 300_000 else "MISSED"
            lines.append(
                f"- {label}: {total / 1024:.1f} KB transferred in {count_requests + 1} requests "
                f"(goal < 300 KB: {goal})"
            )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    rng = random.Random(17)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        if args.database_url:
            from tests.dburl import create_database, drop_database

            name = f"bench_web_{int(time.time())}"
            import os

            os.environ["TEST_DATABASE_URL"] = args.database_url
            url = await create_database(name)
        try:
            started = time.perf_counter()
            await fill(url, Path(tmp) / "media", args.memoirs, rng)
            print(
                f"filled {args.memoirs:,} memoirs in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            result = await measure(url, Path(tmp) / "media", args.requests, rng)
        finally:
            if args.database_url:
                await drop_database(name)
    database = "PostgreSQL" if args.database_url else "SQLite"
    return report(result, args.memoirs, database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memoirs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="per case")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.memoirs, args.requests = 1000, 60
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
