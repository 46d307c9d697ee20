"""Start-up contract: settings errors, migrations, the sandbox."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.migrate import upgrade_to_head
from ground.settings import SettingsError, load_settings

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
