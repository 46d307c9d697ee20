"""Apply Alembic migrations, at start-up or by hand: `python -m db.migrate [URL]`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7_300_111  # any constant shared by all instances of this bot


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    if connection.dialect.name == "postgresql":
        # Instances starting together: one migrates, the others wait, then find it done.
        # A transaction-scoped lock, released when engine.begin() commits.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    # env.py picks this connection up instead of opening its own engine.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_to_head(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, url)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    from ground.settings import SettingsError, load_settings

    args = sys.argv[1:] if argv is None else argv
    if args:
        url = args[0]
    else:
        try:
            url = load_settings().database_url
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
    asyncio.run(upgrade_to_head(url))
    print("database is at the newest schema")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
