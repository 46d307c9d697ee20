"""The optional Zoom integration against a local fake Zoom API (OAuth + meetings)."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Meeting
from ground.settings import Settings
from scheduling.meetings import zoom
from scheduling.meetings.lifecycle import cancel_meeting, create_meeting, reschedule_meeting
from tests.club import ADMIN_ID, DEFAULT_NOW, running_club

NOW = DEFAULT_NOW
START = datetime(2027, 1, 16, 9, 0, tzinfo=UTC)
SECRET = "s3cret-value"


@dataclass
class FakeZoom:
    """Records every request; `fail_with` makes the meetings API answer that status."""

    base: str = ""
    requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    tokens_issued: int = 0
    expires_in: int = 3600
    fail_with: int | None = None
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def api_base(self) -> str:
        return f"{self.base}/v2"

    def calls(self, method: str) -> list[tuple[str, dict[str, Any]]]:
        return [(path, body) for m, path, body, _h in self.requests if m == method]

    def config(self) -> zoom.ZoomConfig:
        return zoom.ZoomConfig("acc-1", "client-1", SECRET, self.api_base, self.base)

    async def token(self, request: web.Request) -> web.Response:
        self.requests.append(("TOKEN", request.path_qs, {}, dict(request.headers)))
        expected = "Basic " + base64.b64encode(f"client-1:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"reason": "Invalid client_id or client_secret"}, status=400)
        if request.query.get("grant_type") != "account_credentials" or (
            request.query.get("account_id") != "acc-1"
        ):
            return web.json_response({"reason": "bad grant"}, status=400)
        self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": f"tok-{self.tokens_issued}",
                "token_type": "bearer",
                "expires_in": self.expires_in,
            }
        )

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer tok-{self.tokens_issued}"

    async def meetings_api(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.requests.append((request.method, request.path, body, dict(request.headers)))
        if not self._authorised(request):
            return web.json_response({"code": 124, "message": "Invalid access token."}, status=401)
        if self.fail_with:
            return web.json_response({"code": 500, "message": "boom"}, status=self.fail_with)
        if request.method == "POST":
            meeting_id = str(85000000000 + len(self.meetings))
            self.meetings[meeting_id] = body
            join_url = f"https://zoom.us/j/{meeting_id}?pwd=abc"
            return web.json_response({"id": int(meeting_id), "join_url": join_url}, status=201)
        meeting_id = request.match_info["meeting_id"]
        if meeting_id not in self.meetings:
            return web.json_response({"code": 3001, "message": "no such meeting"}, status=404)
        if request.method == "PATCH":
            self.meetings[meeting_id].update(body)
        else:
            del self.meetings[meeting_id]
        return web.Response(status=204)


@pytest.fixture
async def fake_zoom() -> AsyncIterator[FakeZoom]:
    fake = FakeZoom()
    app = web.Application()
    app.router.add_post("/oauth/token", fake.token)
    app.router.add_post("/v2/users/me/meetings", fake.meetings_api)
    app.router.add_route("PATCH", "/v2/meetings/{meeting_id}", fake.meetings_api)
    app.router.add_route("DELETE", "/v2/meetings/{meeting_id}", fake.meetings_api)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


class Ticks:
    """An injected monotonic clock for the token cache."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _settings(**zoom_fields: str) -> object:
    """A settings stand-in: works whether or not Settings has the Zoom fields yet."""
    return type("S", (), {"club_name": "Любимый Харбин", **zoom_fields})()


# --------------------------------------------------------------------------- config


def test_config_needs_all_three_settings() -> None:
    assert zoom.ZoomConfig.from_settings(_settings()) is None
    partial = _settings(zoom_account_id="a", zoom_client_id="c", zoom_client_secret=" ")
    assert zoom.ZoomConfig.from_settings(partial) is None
    full = zoom.ZoomConfig.from_settings(
        _settings(
            zoom_account_id="a",
            zoom_client_id="c",
            zoom_client_secret="x",
            zoom_api_base="http://h/v2/",
        )
    )
    assert full is not None and full.api_base == "http://h/v2"
    assert full.oauth_base == zoom.DEFAULT_OAUTH_BASE
    assert "x" not in repr(full).replace("account", "")  # secret not in the repr


def test_zoom_time_is_utc_with_z() -> None:
    berlin = datetime(2027, 1, 16, 10, 0, tzinfo=UTC) + timedelta(hours=0)
    assert zoom.zoom_time(berlin) == "2027-01-16T10:00:00Z"


# --------------------------------------------------------------------------- hooks


async def test_create_fills_link_then_reschedule_patches_then_cancel_deletes(
    fake_zoom: FakeZoom, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = zoom.ZoomClient(fake_zoom.config(), clock=Ticks())
    settings = _settings()
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        outcome = await zoom.on_meeting_confirmed(
            session, meeting, settings, now=NOW, client=client
        )
        await session.commit()
        assert outcome is zoom.ZoomOutcome.DONE
    async with sessions() as session:
        saved = await session.scalar(select(Meeting))
        assert saved is not None
        assert saved.zoom_meeting_id == "85000000000"
        assert saved.link == "https://zoom.us/j/85000000000?pwd=abc"
    ((path, body),) = fake_zoom.calls("POST")
    assert path == "/v2/users/me/meetings"
    assert body == {
        "topic": "Любимый Харбин",
        "type": 2,
        "start_time": "2027-01-16T09:00:00Z",
        "duration": 90,
        "timezone": "UTC",
    }

    async with sessions() as session:
        saved = await session.scalar(select(Meeting))
        assert saved is not None
        new_start = START + timedelta(days=1, hours=2)
        await reschedule_meeting(session, saved, new_start, now=NOW)
        await session.commit()
        outcome = await zoom.on_meeting_rescheduled(
            session, saved, settings, now=NOW, client=client
        )
        await session.commit()
        assert outcome is zoom.ZoomOutcome.DONE
        ((path, body),) = fake_zoom.calls("PATCH")
        assert path == "/v2/meetings/85000000000"
        assert body == {"start_time": "2027-01-17T11:00:00Z", "duration": 90, "timezone": "UTC"}

        await cancel_meeting(session, saved, "ill", now=NOW)
        await session.commit()
        assert await zoom.on_meeting_cancelled(saved, settings, client=client) is (
            zoom.ZoomOutcome.DONE
        )
    ((path, _body),) = fake_zoom.calls("DELETE")
    assert path == "/v2/meetings/85000000000"
    assert fake_zoom.meetings == {}
    # Every API call carried the one bearer token; one token served all three.
    assert fake_zoom.tokens_issued == 1
    api_headers = [h for m, _p, _b, h in fake_zoom.requests if m != "TOKEN"]
    assert all(h["Authorization"] == "Bearer tok-1" for h in api_headers)


async def test_token_is_reused_until_near_expiry_then_refreshed(fake_zoom: FakeZoom) -> None:
    ticks = Ticks()
    client = zoom.ZoomClient(fake_zoom.config(), clock=ticks)
    await client.create_meeting("a", START, 60)
    ticks.now = 3000.0  # 600 s left: still good
    await client.create_meeting("b", START, 60)
    assert fake_zoom.tokens_issued == 1
    ticks.now = 3600.0 - zoom.TOKEN_MARGIN_SECONDS  # inside the margin: fetch a new one
    await client.create_meeting("c", START, 60)
    assert fake_zoom.tokens_issued == 2
    bearers = [h["Authorization"] for m, _p, _b, h in fake_zoom.requests if m == "POST"]
    assert bearers == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


async def test_revoked_token_is_replaced_once(fake_zoom: FakeZoom) -> None:
    client = zoom.ZoomClient(fake_zoom.config(), clock=Ticks())
    await client.create_meeting("a", START, 60)
    fake_zoom.tokens_issued += 1  # the server forgets tok-1 (as after re-activation)
    await client.create_meeting("b", START, 60)
    assert len(fake_zoom.calls("POST")) == 3  # one 401, one retry with the new token


async def test_wrong_secret_fails_without_logging_it(
    fake_zoom: FakeZoom,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = zoom.ZoomConfig("acc-1", "client-1", "wrong-secret", fake_zoom.api_base, fake_zoom.base)
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        with caplog.at_level(logging.WARNING):
            outcome = await zoom.on_meeting_confirmed(
                session, meeting, _settings(), now=NOW, client=zoom.ZoomClient(bad)
            )
            await session.commit()
    assert outcome is zoom.ZoomOutcome.FAILED
    assert "token request failed: 400" in caplog.text
    assert "wrong-secret" not in caplog.text and SECRET not in caplog.text


async def test_zoom_500_keeps_the_meeting(
    fake_zoom: FakeZoom,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_zoom.fail_with = 500
    client = zoom.ZoomClient(fake_zoom.config())
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        with caplog.at_level(logging.WARNING):
            outcome = await zoom.on_meeting_confirmed(
                session, meeting, _settings(), now=NOW, client=client
            )
            await session.commit()
    assert outcome is zoom.ZoomOutcome.FAILED
    assert "500" in caplog.text and "tok-" not in caplog.text
    async with sessions() as session:
        saved = await session.scalar(select(Meeting))
        assert saved is not None and saved.status == "scheduled"
        assert saved.link is None and saved.zoom_meeting_id is None


async def test_unreachable_zoom_is_a_failure_not_a_crash(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A port nothing listens on: connection refused.
    config = zoom.ZoomConfig("a", "c", "s", "http://127.0.0.1:9/v2", "http://127.0.0.1:9")
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        outcome = await zoom.on_meeting_confirmed(
            session, meeting, _settings(), now=NOW, client=zoom.ZoomClient(config)
        )
        await session.commit()
    assert outcome is zoom.ZoomOutcome.FAILED


async def test_reschedule_creates_when_zoom_never_got_it_but_not_over_a_hand_link(
    fake_zoom: FakeZoom, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = zoom.ZoomClient(fake_zoom.config())
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        meeting.link = "https://telemost.yandex.ru/j/1"
        out = await zoom.on_meeting_rescheduled(
            session, meeting, _settings(), now=NOW, client=client
        )
        await session.commit()
        assert out is zoom.ZoomOutcome.OFF and fake_zoom.requests == []
        meeting.link = None
        out = await zoom.on_meeting_rescheduled(
            session, meeting, _settings(), now=NOW, client=client
        )
        await session.commit()
        assert out is zoom.ZoomOutcome.DONE and meeting.link and meeting.zoom_meeting_id


async def test_without_settings_nothing_is_called(
    fake_zoom: FakeZoom, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        meeting = await create_meeting(session, START, now=NOW)
        await session.commit()
        meeting.zoom_meeting_id = "1"  # even a stored id must not trigger a call
        settings = _settings()
        assert zoom.client_for(settings) is None
        assert await zoom.on_meeting_confirmed(session, meeting, settings, now=NOW) is (
            zoom.ZoomOutcome.OFF
        )
        await session.commit()
        assert await zoom.on_meeting_rescheduled(session, meeting, settings, now=NOW) is (
            zoom.ZoomOutcome.OFF
        )
        await session.commit()
        assert await zoom.on_meeting_cancelled(meeting, settings) is zoom.ZoomOutcome.OFF
    assert fake_zoom.requests == []


# --------------------------------------------------------------------------- end to end


def _zoom_overrides(fake: FakeZoom, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Settings overrides once Settings has the Zoom fields; until then, patch the config in."""
    overrides: dict[str, object] = {
        "zoom_account_id": "acc-1",
        "zoom_client_id": "client-1",
        "zoom_client_secret": SECRET,
        "zoom_api_base": fake.api_base,
        "zoom_oauth_base": fake.base,
    }
    if "zoom_account_id" not in Settings.model_fields:
        monkeypatch.setattr(
            zoom.ZoomConfig, "from_settings", classmethod(lambda cls, s: fake.config())
        )
    return overrides


async def test_organiser_commands_drive_zoom_end_to_end(
    tmp_path: Path, fake_zoom: FakeZoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_club(tmp_path, **_zoom_overrides(fake_zoom, monkeypatch)) as club:
        admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
        await club.register(admin, country="Germany", city_prefix="Berlin")
        reply = await club.say(admin, "/meeting 2027-01-16 10:00")
        assert "Zoom meeting created" in (reply.text or "")
        ((_path, body),) = fake_zoom.calls("POST")
        assert body["start_time"] == "2027-01-16T09:00:00Z"  # 10:00 Berlin
        reply = await club.say(admin, "/next")
        assert "https://zoom.us/j/85000000000?pwd=abc" in (reply.text or "")

        reply = await club.say(admin, "/reschedule 2027-01-17 11:00")
        assert "Zoom meeting is moved too" in (reply.text or "")
        assert fake_zoom.calls("PATCH")[0][1]["start_time"] == "2027-01-17T10:00:00Z"

        reply = await club.say(admin, "/theme Sungari river in winter")
        assert "Theme saved: Sungari river in winter" in (reply.text or "")
        assert "has the new theme as its topic" in (reply.text or "")
        assert fake_zoom.calls("PATCH")[1][1] == {"topic": "Sungari river in winter"}
        assert fake_zoom.meetings["85000000000"]["topic"] == "Sungari river in winter"
        fake_zoom.fail_with = 500
        reply = await club.say(admin, "/theme Churches of Harbin")
        assert "Theme saved: Churches of Harbin" in (reply.text or "")
        assert "could not change its meeting's topic" in (reply.text or "")
        fake_zoom.fail_with = None

        fake_zoom.fail_with = 500
        await club.say(admin, "/cancelmeeting")
        reply = await club.press(admin, "Yes, cancel it")
        assert "The meeting is cancelled" in (reply.text or "")
        assert "delete it in Zoom by hand" in (reply.text or "")

        fake_zoom.fail_with = 500
        reply = await club.say(admin, "/meeting 2027-02-13 10:00")
        assert "The meeting is set for" in (reply.text or "")
        assert "set it by hand with /link" in (reply.text or "")
        async with club.app.ctx.session_factory() as session:
            meetings = list(await session.scalars(select(Meeting).order_by(Meeting.id)))
        assert [m.status for m in meetings] == ["cancelled", "scheduled"]
        assert meetings[1].link is None


async def test_without_zoom_settings_the_bot_never_calls_zoom(
    tmp_path: Path, fake_zoom: FakeZoom
) -> None:
    async with running_club(tmp_path) as club:
        admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
        await club.register(admin, country="Germany", city_prefix="Berlin")
        reply = await club.say(admin, "/meeting 2027-01-16 10:00")
        assert "Zoom" not in (reply.text or "")
        reply = await club.say(admin, "/theme Sungari river in winter")
        assert reply.text == "Theme saved: Sungari river in winter"
    assert fake_zoom.requests == []
