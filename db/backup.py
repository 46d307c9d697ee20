"""`python -m bot backup [PATH]`: an online copy of the database and a restore check.

SQLite: sqlite3's online backup API copies a consistent snapshot while the bot keeps
running (WAL readers and writers are not blocked), then the copy is opened on its own
and must pass `PRAGMA integrity_check` and have a readable members table.
PostgreSQL: pg_dump is the right tool; this prints the command and checks it is installed.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

BACKUP_DIR = Path("data/backups")


@dataclass(frozen=True)
class RestoreCheck:
    integrity: str
    members: int

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"


def _target(path: Path | None, stem: str, suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"{stem}-{stamp}{suffix}"
    if path is None:
        return BACKUP_DIR / name
    return path / name if path.is_dir() else path


def backup_sqlite(database: Path, path: Path | None = None) -> Path:
    if not database.exists():
        raise FileNotFoundError(f"no database at {database}")
    target = _target(path, database.stem, ".sqlite3")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy, pages=1024)  # in steps: the bot's writers are not held up
    finally:
        copy.close()
        source.close()
    return target


def check_restore(copy: Path) -> RestoreCheck:
    """Open the copy as a restored database would be opened, and read it."""
    connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        integrity = str(connection.execute("PRAGMA integrity_check").fetchone()[0])
        members = int(connection.execute("SELECT count(*) FROM members").fetchone()[0])
    finally:
        connection.close()
    return RestoreCheck(integrity, members)


def postgres_instructions(url: str) -> tuple[str, bool]:
    parsed = make_url(url)
    # The password never goes on a command line (it would sit in shell history and ps).
    user = f"{parsed.username}@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    dsn = f"postgresql://{user}{parsed.host or ''}{port}/{parsed.database or ''}"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    command = (
        f"PGPASSWORD=... pg_dump --format=custom --file=data/backups/{parsed.database}-{stamp}.dump "
        f"'{dsn}'\n"
        f"restore check: pg_restore --list data/backups/{parsed.database}-{stamp}.dump\n"
        f"restore: createdb NEW && pg_restore --no-owner --dbname=NEW FILE.dump"
    )
    return command, shutil.which("pg_dump") is not None


def run_backup(url: str, path: Path | None = None) -> int:
    """The sub-command; prints what it did and returns the exit status."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            print("nothing to back up: the database is in memory")
            return 1
        target = backup_sqlite(Path(parsed.database), path)
        check = check_restore(target)
        print(f"backup written to {target} ({target.stat().st_size} bytes)")
        print(f"restore check: integrity {check.integrity}, {check.members} members")
        return 0 if check.ok else 1
    if backend == "postgresql":
        command, installed = postgres_instructions(url)
        print("PostgreSQL is backed up with pg_dump (online, consistent):")
        print(command)
        if installed:
            print("pg_dump is installed")
            return 0
        print("pg_dump is NOT installed: apt-get install postgresql-client")
        return 1
    print(f"no backup procedure for {backend} databases")
    return 1
