"""What is deleted must not linger in the database files.

SQLite: every connection sets `secure_delete` (db/engine.py), so freed pages are zeroed
instead of kept; but a deleted row's old page image still sits in the write-ahead log until
a checkpoint writes the WAL back and truncates it. After `/forget`, `erase_leftovers` does
that checkpoint. PostgreSQL keeps dead rows until VACUUM (docs/deploy.md says how that and
backups age out).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


async def erase_leftovers(session: AsyncSession) -> bool:
    """Checkpoint and truncate SQLite's WAL; True when the whole log was written back."""
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return True
    async with bind.connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _log_pages, _checkpointed = result.one()
    if busy:  # a reader still needs old pages; the next checkpoint finishes the job
        log.warning("WAL checkpoint after a forget was incomplete (a reader was busy)")
    return not busy
