"""Apply Alembic migrations, at start-up or by hand: `python -m db.migrate [URL]`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, url: str) -> None:
    config = alembic_config(url)
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
    from bot.config import SettingsError, load_settings

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
