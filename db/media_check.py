"""Start-up consistency check between MEDIA_DIR and the rows that refer to its files
(memoir parts, gravestone photos and talk materials)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.media import MediaStore
from db.media_refs import recorded_files

log = logging.getLogger(__name__)


@dataclass
class MediaCheck:
    # Files on disk no row refers to (a crash between rename and commit, or a failed delete).
    orphans: list[str] = field(default_factory=list)
    # Rows whose file is gone (disk trouble, or someone deleted files by hand): (row id, path).
    missing: list[tuple[int, str]] = field(default_factory=list)
    # Half-written temp files from an interrupted write; never recorded, so removed.
    temp_removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.orphans and not self.missing

    def log(self) -> None:
        if self.temp_removed:
            log.info("media check: removed %d unfinished temp files", self.temp_removed)
        if self.orphans:
            log.warning(
                "media check: %d files not in the database, e.g. %s",
                len(self.orphans),
                self.orphans[:3],
            )
        if self.missing:
            log.error(
                "media check: %d database rows without a file, e.g. %s",
                len(self.missing),
                self.missing[:3],
            )


async def check_media(
    store: MediaStore,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    clear_temp: bool = True,
) -> MediaCheck:
    """Report both kinds of disagreement; only temp files are touched (they are never
    recorded). Orphans are reported, not deleted: a human decides."""
    temp_removed = await asyncio.to_thread(store.clear_temp) if clear_temp else 0
    on_disk = set(await asyncio.to_thread(store.iter_files))
    async with session_factory() as session:
        rows = await recorded_files(session)
    recorded = {path for _table, _id, path in rows}
    missing = [(row_id, path) for _table, row_id, path in rows if path not in on_disk]
    return MediaCheck(
        orphans=sorted(on_disk - recorded), missing=sorted(missing), temp_removed=temp_removed
    )
