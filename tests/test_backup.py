"""`python -m bot backup`: an online SQLite copy that passes the restore check."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.backup import check_restore, postgres_instructions
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.sqlite_only
async def test_backup_copies_and_checks_a_live_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'club.sqlite3'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session:
        session.add_all(Member(telegram_id=i, locale="en", registered_at=now) for i in range(7))
        await session.commit()
        # The bot keeps a connection open (WAL): the backup must work regardless.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "BOT_TOKEN": ""}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "backup",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    await engine.dispose()
    stdout = out.decode()
    assert proc.returncode == 0, err.decode()
    copies = list((tmp_path / "data" / "backups").glob("club-*.sqlite3"))
    assert len(copies) == 1
    assert "integrity ok, 7 members" in stdout
    check = check_restore(copies[0])
    assert check.ok and check.members == 7


def test_postgres_backup_is_pg_dump_instructions() -> None:
    command, _installed = postgres_instructions(
        "postgresql+asyncpg://club:s3cret@db.example:5432/harbin"
    )
    assert "pg_dump --format=custom" in command
    assert "s3cret" not in command
    assert "postgresql://club@db.example:5432/harbin" in command
