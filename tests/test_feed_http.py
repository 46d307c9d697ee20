"""The feed server over real HTTP on 127.0.0.1: validators, 304s, tokens, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Meeting, Member, Organiser
from ground.clock import FixedClock
from ground.context import AppContext
from ground.settings import load_settings
from handlers.i18n import build_i18n
from scheduling.feeds import window
from scheduling.feeds.addresses import feed_urls
from scheduling.feeds.store import ensure_token, reset_token, revoke_token
from scheduling.meetings.lifecycle import (
    cancel_meeting,
    create_meeting,
    set_link,
)
from tests.ics_parsers import parse_all
from web.app import build_web_app, start_web
from web.feeds import FEEDS_KEY, FeedService
from web.log_redaction import install_log_redaction, redact

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)
LINK = "https://meet.example.org/j/777"


@dataclass
class Server:
    base: str
    ctx: AppContext
    app: web.Application
    http: aiohttp.ClientSession
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock

    @property
    def service(self) -> FeedService:
        return self.app[FEEDS_KEY]

    async def get(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[int, CIMultiDict[str], bytes]:
        async with self.http.request(method, self.base + path, headers=headers) as response:
            return response.status, CIMultiDict(response.headers), await response.read()

    async def add_member(self, telegram_id: int, locale: str) -> tuple[Member, str]:
        async with self.sessions() as session:
            member = Member(
                telegram_id=telegram_id, locale=locale, name="M", zone="Asia/Harbin",
                registered_at=NOW - timedelta(days=100), consent_at=NOW - timedelta(days=100),
            )  # fmt: skip
            session.add(member)
            await session.commit()
            token = await ensure_token(session, member)
            await session.commit()
            return member, token

    async def meeting(self, days: int, **kw: object) -> Meeting:
        async with self.sessions() as session:
            result = await create_meeting(session, NOW + timedelta(days=days), now=NOW, **kw)  # type: ignore[arg-type]
            await session.commit()
            return result


async def _serve(url: str, *, public_feed: bool) -> AsyncIterator[Server]:
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    clock = FixedClock(NOW)
    ctx = AppContext(
        settings=load_settings(_env_file=None, database_url=url, default_locale="ru"),
        session_factory=sessions,
        i18n=build_i18n("ru"),
        clock=clock,
    )
    app = build_web_app(ctx, public_feed=public_feed)
    runner = await start_web(ctx, "127.0.0.1", 0, app=app)
    host, port = runner.addresses[0][:2]
    # No Accept header at all: calendar apps often send none.
    http = aiohttp.ClientSession(skip_auto_headers=["Accept", "Accept-Encoding"])
    try:
        yield Server(f"http://{host}:{port}", ctx, app, http, sessions, clock)
    finally:
        await http.close()
        await runner.cleanup()
        await engine.dispose()


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    async for running in _serve(database_url, public_feed=False):
        yield running


@pytest.fixture
async def public_server(database_url: str) -> AsyncIterator[Server]:
    async for running in _serve(database_url, public_feed=True):
        yield running


async def test_private_feed_is_served_with_validators(server: Server) -> None:
    _member, token = await server.add_member(1, "ru")
    m = await server.meeting(5, theme="Чай; кофе")
    async with server.sessions() as session:
        await set_link(session, await session.get(Meeting, m.id), LINK, now=NOW)
        await session.commit()
    status, headers, body = await server.get(f"/feed/{token}.ics")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["ETag"].startswith('"')
    assert headers["Last-Modified"].endswith("GMT")
    assert "private" in headers["Cache-Control"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    (event,) = parse_all(body)
    assert event["uid"] == m.uid
    assert event["url"] == LINK
    assert LINK in event["description"]
    assert event["summary"] == "«Любимый Харбин»: Чай; кофе"
    again = await server.get(f"/feed/{token}.ics", Accept="text/html")
    assert again[0] == 200 and again[2] == body and again[1]["ETag"] == headers["ETag"]


async def test_conditional_requests_answer_304_without_rendering(server: Server) -> None:
    _member, token = await server.add_member(1, "en")
    m = await server.meeting(5)
    path = f"/feed/{token}.ics"
    _s, headers, _b = await server.get(path)
    renders, queries = server.service.renders, server.service.queries
    status, h304, body = await server.get(path, **{"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert h304["ETag"] == headers["ETag"]
    assert "private" in h304["Cache-Control"] and h304["Referrer-Policy"] == "no-referrer"
    status, _h, _b = await server.get(path, **{"If-None-Match": f'"x", W/{headers["ETag"]}'})
    assert status == 304
    status, _h, _b = await server.get(path, **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    # Served from memory: no rendering and no database round trip.
    assert (server.service.renders, server.service.queries) == (renders, queries)
    # A change gives a new ETag and a later Last-Modified: the old validators miss.
    async with server.sessions() as session:
        meeting = await session.get(Meeting, m.id)
        await set_link(session, meeting, LINK, now=NOW + timedelta(minutes=5))
        await session.commit()
    status, new_headers, body = await server.get(path, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and LINK.encode() in body
    assert new_headers["ETag"] != headers["ETag"]
    status, _h, _b = await server.get(path, **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 200


async def test_head_is_supported(server: Server) -> None:
    _member, token = await server.add_member(1, "zh")
    await server.meeting(5)
    status, headers, body = await server.get(f"/feed/{token}.ics", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "ETag" in headers and int(headers["Content-Length"]) > 100


@pytest.mark.parametrize(
    "path",
    [
        "/feed/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",  # well formed, unknown
        "/feed/short.ics",
        "/feed/../../etc/passwd",
        "/feed/%00%01.ics",
        "/feed/" + "A" * 500 + ".ics",
        "/feed/public.ics",  # off by default
        "/nothing-here",
    ],
)
async def test_unknown_tokens_get_a_bare_404(server: Server, path: str) -> None:
    status, _headers, body = await server.get(path)
    assert status == 404
    assert body == b"Not Found"


async def test_reset_and_revoke_stop_the_old_address_at_once(server: Server) -> None:
    member, token = await server.add_member(1, "en")
    await server.meeting(5)
    assert (await server.get(f"/feed/{token}.ics"))[0] == 200
    async with server.sessions() as session:
        fresh = await session.get(Member, member.id)
        new_token = await reset_token(session, fresh)
        await session.commit()
    assert new_token != token and len(new_token) >= 32
    assert (await server.get(f"/feed/{token}.ics"))[0] == 404
    assert (await server.get(f"/feed/{new_token}.ics"))[0] == 200
    async with server.sessions() as session:
        await revoke_token(session, await session.get(Member, member.id))
        await session.commit()
    assert (await server.get(f"/feed/{new_token}.ics"))[0] == 404


async def test_same_uid_in_every_members_feed(server: Server) -> None:
    _a, token_a = await server.add_member(1, "ru")
    _b, token_b = await server.add_member(2, "zh")
    m = await server.meeting(5)
    (ru,) = parse_all((await server.get(f"/feed/{token_a}.ics"))[2])
    (zh,) = parse_all((await server.get(f"/feed/{token_b}.ics"))[2])
    assert ru["uid"] == zh["uid"] == m.uid
    assert ru["summary"] == "Встреча клуба «Любимый Харбин»"
    assert zh["summary"] == "“亲爱的哈尔滨”俱乐部聚会"


async def test_cancelled_meeting_leaves_after_its_time(server: Server) -> None:
    _member, token = await server.add_member(1, "en")
    m = await server.meeting(5)
    async with server.sessions() as session:
        await cancel_meeting(session, await session.get(Meeting, m.id), "", now=NOW)
        await session.commit()
    _s, headers, body = await server.get(f"/feed/{token}.ics")
    (event,) = parse_all(body)
    assert event["status"] == "CANCELLED" and event["summary"].startswith("Cancelled: ")
    server.clock.advance(days=6)
    status, later, body = await server.get(
        f"/feed/{token}.ics", **{"If-Modified-Since": headers["Last-Modified"]}
    )
    assert status == 200 and parse_all(body) == []
    assert later["Last-Modified"] != headers["Last-Modified"]


async def test_public_feed_when_enabled_has_no_links(public_server: Server) -> None:
    m = await public_server.meeting(5, theme="Улицы")
    async with public_server.sessions() as session:
        await set_link(session, await session.get(Meeting, m.id), LINK, now=NOW)
        await session.commit()
    status, headers, body = await public_server.get("/feed/public.ics")
    assert status == 200 and "public" in headers["Cache-Control"]
    assert b"meet.example.org" not in body
    (event,) = parse_all(body)
    assert event["url"] is None and event["uid"] == m.uid


# --------------------------------------------------------------------------- many members


async def test_many_members_poll_from_memory(server: Server) -> None:
    members = [await server.add_member(100 + n, ("ru", "en", "zh")[n % 3]) for n in range(30)]
    await server.meeting(5)
    etags = {}
    for _member, token in members:
        status, headers, _body = await server.get(f"/feed/{token}.ics")
        assert status == 200
        etags[token] = headers["ETag"]
    assert len(set(etags.values())) == 3  # one body per locale
    assert server.service.renders == 3
    queries = server.service.queries
    async with server.sessions() as session:  # a write no feed shows
        session.add(Organiser(telegram_id=5, added_by=1, added_at=NOW))
        await session.commit()
    for _round in range(2):
        for _member, token in members:
            path = f"/feed/{token}.ics"
            assert (await server.get(path, **{"If-None-Match": etags[token]}))[0] == 304
            assert (await server.get(path))[0] == 200
    assert server.service.queries == queries  # all from memory
    assert server.service.renders == 3


async def test_many_polls_after_a_change_render_once(server: Server) -> None:
    tokens = [(await server.add_member(400 + n, "ru"))[1] for n in range(20)]
    m = await server.meeting(5)
    assert (await server.get(f"/feed/{tokens[0]}.ics"))[0] == 200
    renders = server.service.renders
    async with server.sessions() as session:
        meeting = await session.get(Meeting, m.id)
        await set_link(session, meeting, LINK, now=NOW + timedelta(minutes=1))
        await session.commit()
    answers = await asyncio.gather(*(server.get(f"/feed/{t}.ics") for t in tokens))
    assert {status for status, _h, _b in answers} == {200}
    assert len({body for _s, _h, body in answers}) == 1
    assert LINK.encode() in answers[0][2]
    assert server.service.renders == renders + 1


async def test_kept_token_owners_are_bounded_least_recently_used_first(server: Server) -> None:
    server.service.member_entries = 3
    tokens = [(await server.add_member(200 + n, "en"))[1] for n in range(5)]
    await server.meeting(5)
    for token in tokens:
        assert (await server.get(f"/feed/{token}.ics"))[0] == 200
        assert server.service.owners_kept <= 3
    assert (await server.get(f"/feed/{tokens[2]}.ics"))[0] == 200  # now the most recent
    queries = server.service.queries
    for token in tokens[2:]:
        assert (await server.get(f"/feed/{token}.ics"))[0] == 200
    assert server.service.queries == queries
    assert (await server.get(f"/feed/{tokens[0]}.ics"))[0] == 200  # was dropped: asks again
    assert server.service.queries == queries + 1
    assert server.service.owners_kept == 3


async def test_a_token_revoked_behind_our_back_stops_within_the_time_limit(
    server: Server,
) -> None:
    """Another process revoked it, and nobody told us: one re-check covers every member."""
    server.service.ttl = 0.3
    members = [await server.add_member(300 + n, "ru") for n in range(20)]
    await server.meeting(5)
    for _member, token in members:
        assert (await server.get(f"/feed/{token}.ics"))[0] == 200
    revoked_member, revoked = members[0]
    other = create_engine(server.ctx.settings.database_url)
    try:
        async with other.begin() as connection:  # Core, not an ORM session: no events
            await connection.execute(
                update(Member.__table__)
                .where(Member.__table__.c.id == revoked_member.id)
                .values(feed_token=None)
            )
    finally:
        await other.dispose()
    await asyncio.sleep(0.35)
    queries = server.service.queries
    assert (await server.get(f"/feed/{revoked}.ics"))[0] == 404
    for _member, token in members[1:]:
        assert (await server.get(f"/feed/{token}.ics"))[0] == 200
    # The re-check of all kept owners, the revoked token asked alone, the meetings again.
    assert server.service.queries - queries <= 3
    assert server.service.owners_kept == 19


async def test_a_meeting_in_year_9999_costs_one_event_not_the_feed(
    public_server: Server, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `/reschedule 9999-12-31 20:00 Pacific/Kiritimati` stored before the commands
    # refused such dates: its window arithmetic overflowed and every feed answered 500.
    # Rows like it may still be in a database, so it is written here as it was stored.
    monkeypatch.setattr(window, "_reported", set())  # other tests' reports do not count
    server = public_server
    _member, token = await server.add_member(1, "en")
    good = await server.meeting(5, theme="Чай")
    bad = await server.meeting(9)
    async with server.sessions() as session:
        far = datetime(9999, 12, 31, 20, 0, tzinfo=ZoneInfo("Pacific/Kiritimati"))
        stored = await session.get(Meeting, bad.id)
        assert stored is not None
        stored.starts_at, stored.sequence = far, stored.sequence + 1
        await session.commit()
    caplog.set_level(logging.WARNING)
    for path in (f"/feed/{token}.ics", "/feed/public.ics"):
        status, _headers, body = await server.get(path)
        assert status == 200
        (event,) = parse_all(body)
        assert event["uid"] == good.uid
    # A later change makes the server read and render again: still one report.
    async with server.sessions() as session:
        meeting = await session.get(Meeting, good.id)
        await set_link(session, meeting, LINK, now=NOW + timedelta(minutes=1))
        await session.commit()
    status, _headers, body = await server.get(f"/feed/{token}.ics")
    assert status == 200 and LINK.encode() in body
    reports = [r for r in caplog.records if r.name.startswith("scheduling.feeds")]
    assert len(reports) == 1, caplog.text
    assert reports[0].levelno == logging.WARNING
    assert f"meeting {bad.id} left out of calendar feeds" in reports[0].getMessage()
    assert token not in caplog.text


async def test_errors_reach_clients_as_a_bare_500(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    _member, token = await server.add_member(1, "en")

    async def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("/secret/internal/path.py exploded")

    monkeypatch.setattr("web.feeds.feed_stamps", broken)
    status, _headers, body = await server.get(f"/feed/{token}.ics")
    assert (status, body) == (500, b"Internal Server Error")


async def test_healthz_and_links(server: Server) -> None:
    status, _headers, body = await server.get("/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok" and health["database"] is True
    assert health["telegram"] is None  # no bot in this bench: not checked
    https_url, webcal_url = feed_urls("https://club.example.org", "tok")
    assert https_url == "https://club.example.org/feed/tok.ics"
    assert webcal_url == "webcal://club.example.org/feed/tok.ics"


# --------------------------------------------------------------------------- logs


async def _raw(server: Server, request: bytes) -> bytes:
    """Send bytes as they are (no client would build an 8 KB request line) and read all."""
    host, port = server.base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the log handlers were given, as they would write it."""
    return caplog.text + "".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records
    )


@pytest.mark.parametrize("where", ["request line", "header"])
async def test_oversized_request_gives_400_and_one_warning_without_the_token(
    server: Server, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    _member, token = await server.add_member(1, "en")
    path = f"/feed/{token}.ics"
    if where == "request line":
        request = f"GET {path}?pad={'a' * 9000} HTTP/1.1\r\nHost: club\r\n\r\n"
    else:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: club\r\nReferer: https://club.example.org{path}"
            f"?x={'b' * 9000}\r\n\r\n"
        )
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    response = await _raw(server, request.encode())
    assert response.startswith(b"HTTP/1.1 400 ") or response.startswith(b"HTTP/1.0 400 ")
    records = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert len(records) == 1, caplog.text
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and record.exc_text is None
    assert record.getMessage().startswith("malformed HTTP request from 127.0.0.1: 400 ")
    assert "\n" not in record.getMessage()
    assert token not in _logged(caplog)
    assert token[:20] not in _logged(caplog)
    # The server goes on serving.
    assert (await server.get(path))[0] == 200


async def test_our_own_errors_keep_their_traceback_but_not_the_token(
    server: Server, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _member, token = await server.add_member(1, "en")

    async def broken(*_args: object, **_kw: object) -> None:
        # As a database error quotes its parameters.
        raise RuntimeError(f"query failed [parameters: ('{token}',)] for /feed/{token}.ics")

    monkeypatch.setattr("web.feeds.feed_stamps", broken)
    caplog.set_level(logging.INFO)
    status, _headers, body = await server.get(f"/feed/{token}.ics")
    assert (status, body) == (500, b"Internal Server Error")
    (record,) = [r for r in caplog.records if r.name == "web.app"]
    assert record.levelno == logging.ERROR
    assert record.exc_text is not None and "Traceback" in record.exc_text
    assert "RuntimeError: query failed [parameters: ('<redacted>',)]" in record.exc_text
    assert "/feed/<redacted>.ics" in record.exc_text
    assert token not in _logged(caplog)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /feed/{t}.ics HTTP/1.1", "GET /feed/<redacted>.ics HTTP/1.1"),
        ("b'/feed/{t}.ics?aaaa...'", "b'/feed/<redacted>.ics?aaaa...'"),
        ("webcal://club.example.org/feed/{t}.ics", "webcal://club.example.org/feed/<redacted>.ics"),
        ("/feed%2F{t}.ics", "/feed%2F<redacted>.ics"),
        ("/feed/short.ics and /feed/%41%42.ics", "/feed/<redacted>.ics and /feed/<redacted>.ics"),
        ("token {t} alone", "token <redacted> alone"),
        ("/feed/public.ics", "/feed/public.ics"),
        ("test_a_meeting_in_year_9999_costs_one_event_not_the_feed", None),
        ('ETag "0123456789abcdef0123456789abcdef"', None),
    ],
)
def test_redact(line: str, expected: str | None) -> None:
    token = "Ab1_-cDeFgHiJkLmNoPqRsTuVwXyZ0123"  # the shape of a real token
    line = line.format(t=token)
    assert redact(line) == (line if expected is None else expected)


def test_only_aiohttps_parse_errors_become_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from aiohttp.http_exceptions import LineTooLong

    install_log_redaction()
    caplog.set_level(logging.INFO)
    token = "Ab1_-cDeFgHiJkLmNoPqRsTuVwXyZ0123"
    exc = LineTooLong(f"/feed/{token}.ics?aaaa", "8190")
    for name in ("aiohttp.server", "web.app"):
        try:
            raise exc
        except LineTooLong:
            logging.getLogger(name).exception("Error handling request from %s", "10.0.0.1")
    server_record, app_record = caplog.records
    assert server_record.levelno == logging.WARNING and server_record.exc_text is None
    assert server_record.getMessage().startswith("malformed HTTP request from 10.0.0.1: 400 ")
    assert app_record.levelno == logging.ERROR and "Traceback" in (app_record.exc_text or "")
    assert token not in _logged(caplog)
