"""Start-up contract: settings errors, migrations, the sandbox."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.migrate import upgrade_to_head
from ground.settings import SettingsError, load_settings
from sandbox.fake_api import FakeBotAPI
from tests.club import Club

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_admin_ids() -> None:
    settings = load_settings(_env_file=None, admin_ids="1, 2,3")
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.default_locale == "ru"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert not settings.has_token


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("admin_ids", "12,abc"),
        ("bot_token", "not-a-token"),
        ("web_port", "eighty"),
        ("default_locale", "fr"),
        ("telegram_api_base", "ftp://x"),
        ("database_url", "nonsense"),
    ],
)
def test_malformed_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.upper()):
        load_settings(_env_file=None, **{name: value})


def test_token_is_never_in_the_repr() -> None:
    settings = load_settings(_env_file=None, bot_token="123456:secret-value-XYZ")
    assert "secret-value" not in repr(settings)
    assert settings.token() == "123456:secret-value-XYZ"


def test_python_m_bot_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "ADMIN_IDS": "12,abc", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Setting ADMIN_IDS is invalid: 'abc' is not a Telegram user id (digits only)"
    ]


@pytest.mark.sqlite_only  # reads sqlite_master
def test_migrate_says_in_one_line_that_the_database_is_down(tmp_path: Path) -> None:
    closed = "postgresql+asyncpg://club:secret-password@127.0.0.1:1/club"
    env = {**os.environ, "DATABASE_URL": closed, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "secret-password" not in result.stderr


async def test_migrations_twice_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "club.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head(url)
    schema_before = (
        sqlite3.connect(path).execute("select sql from sqlite_master order by name").fetchall()
    )
    await upgrade_to_head(url)
    schema_after = (
        sqlite3.connect(path).execute("select sql from sqlite_master order by name").fetchall()
    )
    assert schema_before == schema_after
    assert any("members" in (row[0] or "") for row in schema_after)


@pytest.mark.sqlite_only  # the sandbox's own SQLite file
async def test_sandbox_chat_registers_a_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.sandbox import run_sandbox

    monkeypatch.chdir(tmp_path)
    lines = iter(["/start", "2", "1", ":quit"])
    seen: list[str] = []

    async def type_line(_prompt: str) -> str | None:
        return next(lines, None)

    await run_sandbox(load_settings(_env_file=None), input_fn=type_line, output_fn=seen.append)
    transcript = "\n".join(seen)
    assert "Choose your language" in transcript
    assert "How should we call you?" in transcript
    assert "Which country do you live in?" in transcript
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()


async def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate against a migrated database finds nothing: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.engine import create_engine
    from db.models import Base, include_name

    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_name": include_name}),
                Base.metadata,
            )
        )
    await engine.dispose()
    assert diff == []


def test_the_sandbox_keeps_to_its_own_data_and_reaches_nothing_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever .env says about the real bot, the sandbox never touches its data or services:
    its own SQLite file and media folder, no Redis, no Zoom, polling its fake server."""
    from bot.sandbox import ORGANISER_ID, sandbox_settings

    monkeypatch.chdir(tmp_path)
    real = load_settings(
        _env_file=None,
        database_url="postgresql+asyncpg://club:secret@db.example/club",
        redis_url="redis://cache.example:6379/0",
        zoom_account_id="acc",
        zoom_client_id="cid",
        zoom_client_secret="zsecret",
        bot_mode="webhook",
        webhook_url="https://club.example/hook",
        webhook_secret="s" * 32,
        bot_token="123456:AAAAAAAAAAAAAAAA",
        admin_ids="7",
    )
    sandbox = sandbox_settings(real)
    assert sandbox.database_url == "sqlite+aiosqlite:///data/sandbox.sqlite3"
    assert sandbox.media_dir == Path("data/sandbox-media") != real.media_dir
    assert sandbox.redis_url is None
    assert (sandbox.zoom_account_id, sandbox.zoom_client_id, sandbox.zoom_client_secret) == (
        None,
        None,
        None,
    )
    assert not sandbox.webhook_mode and not sandbox.has_token
    assert sandbox.admin_ids == {7, ORGANISER_ID}


async def _stderr_lines(
    process: asyncio.subprocess.Process,
    wanted: int,
    timeout: float,  # noqa: ASYNC109
) -> list[str]:
    assert process.stderr is not None
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while len(lines) < wanted:
            raw = await process.stderr.readline()
            if not raw:
                break
            lines.append(raw.decode().rstrip("\n"))
    return lines


def _closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _start_bot(
    tmp_path: Path, api_base: str, token: str, **extra_env: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}",
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": token,
        "TELEGRAM_API_BASE": api_base,
        "WEB_PORT": "0",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.sqlite_only  # the bot's own SQLite file in tmp_path
async def test_unreachable_bot_api_one_line_per_attempt_and_keeps_trying(tmp_path: Path) -> None:
    api_base = f"http://127.0.0.1:{_closed_port()}"
    process = await _start_bot(tmp_path, api_base, "123456:AAAAAAAAAAAAAAAA")
    try:
        lines = await _stderr_lines(process, 3, timeout=60)
        assert process.returncode is None  # still running, still trying
    finally:
        process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0
    everything = lines + rest[1].decode().splitlines()
    assert len(lines) == 3, everything
    for line in lines:
        assert f"cannot reach the Telegram Bot API at {api_base}" in line, everything
        assert "Connection refused" in line and "retrying in" in line, everything
    assert not any("Traceback" in line for line in everything), everything
    assert not any("AAAAAAAAAAAAAAAA" in line for line in everything)  # the token never shows


@pytest.mark.sqlite_only  # the bot's own SQLite file in tmp_path
async def test_a_token_telegram_refuses_stops_with_one_line(tmp_path: Path) -> None:
    async with FakeBotAPI(token="123456:the-right-token") as fake:
        process = await _start_bot(tmp_path, fake.base_url, "123456:AAAAAAAAAAAAAAAA")
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [
        f"Telegram at {fake.base_url} refused BOT_TOKEN (Unauthorized): "
        "check the token @BotFather gave you"
    ]


async def test_polling_logs_one_line_per_failure(
    club: Club, caplog: pytest.LogCaptureFixture
) -> None:
    """Once running, a lost connection is aiogram's to retry: one warning line per failure."""
    caplog.set_level(logging.INFO, logger="aiogram")
    await club.fake.stop()  # Telegram goes away under the running bot

    def failures() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name.startswith("aiogram.dispatcher") and r.levelno >= logging.WARNING
        ]

    for _ in range(200):  # at most 20 s
        if len(failures()) >= 2:
            break
        await asyncio.sleep(0.1)
    # Polling backs off (1 s, then longer): two lines mean two failed attempts, not one.
    first, second = failures()[:2]
    assert second.created - first.created > 0.5, caplog.text
    for record in failures():
        message = record.getMessage()
        assert "\n" not in message and record.exc_info is None, message
        assert message.startswith(f"cannot reach the Telegram Bot API at {club.fake.base_url}")
        assert "(getUpdates)" in message and "retrying in" in message, message


async def test_unreachable_database_one_line_per_attempt_and_keeps_trying(tmp_path: Path) -> None:
    """A database server that is not up yet (a reboot) is waited for, like Telegram."""
    port = _closed_port()
    database = f"postgresql+asyncpg://club:pw-xyz@127.0.0.1:{port}/club"
    process = await _start_bot(
        tmp_path, "http://127.0.0.1:9", "123456:AAAAAAAAAAAAAAAA", DATABASE_URL=database
    )
    try:
        lines = await _stderr_lines(process, 2, timeout=60)
        assert process.returncode is None
    finally:
        process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(process.communicate(), 20)
    everything = lines + rest[1].decode().splitlines()
    assert process.returncode == 0, everything
    assert len(lines) == 2, everything
    for line in lines:
        assert f"cannot reach the database at postgresql://127.0.0.1:{port}/club" in line, (
            everything
        )
        assert "Connection refused" in line and "retrying in" in line, everything
    assert not any("Traceback" in line or "pw-xyz" in line for line in everything), everything


@pytest.mark.postgres
async def test_a_database_that_says_no_stops_with_one_line(tmp_path: Path) -> None:
    """Reached, but refused (here: no such database): waiting cannot help, so one line."""
    from sqlalchemy.engine import make_url

    from tests.dburl import server_url

    server = server_url()
    assert server is not None
    missing = make_url(server).set(database="no_such_database_here")
    process = await _start_bot(
        tmp_path,
        "http://127.0.0.1:9",
        "123456:AAAAAAAAAAAAAAAA",
        DATABASE_URL=missing.render_as_string(hide_password=False),
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    where = f"postgresql://{missing.host}:{missing.port}/no_such_database_here"
    assert err.decode().strip().splitlines() == [
        f'cannot use the database at {where}: database "no_such_database_here" does not exist'
    ]


def test_the_scheduler_says_nothing_every_two_seconds() -> None:
    """At LOG_LEVEL=INFO the delivery job's runs (every 2 s) stay out of the log, the
    scheduler's warnings stay in, and DEBUG shows everything."""
    from bot.__main__ import _configure_logging

    scheduler_log = logging.getLogger("apscheduler.executors.default")
    saved = logging.getLogger("apscheduler").level
    try:
        _configure_logging(load_settings(_env_file=None, log_level="INFO"))
        assert not scheduler_log.isEnabledFor(logging.INFO)
        assert scheduler_log.isEnabledFor(logging.WARNING)
        _configure_logging(load_settings(_env_file=None, log_level="DEBUG"))
        assert scheduler_log.isEnabledFor(logging.DEBUG)
    finally:
        logging.getLogger("apscheduler").setLevel(saved)
