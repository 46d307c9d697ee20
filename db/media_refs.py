"""Which stored files the database still refers to, whichever domain's rows do.

The media store is content-addressed: a memoir photo and a gravestone photo of the same
picture are one file. So a file may be removed only when no memoir part (`media_files`),
no burial record (`burial_photos`) and no talk (`talk_materials`) refers to it any more,
and the start-up check must count every such table as an owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.media import MediaStore
from db.models import BurialPhoto, MediaFile, TalkMaterial
from db.unit_of_work import after_commit


async def paths_in_use(session: AsyncSession, paths: Iterable[str]) -> set[str]:
    wanted = set(paths)
    if not wanted:
        return set()
    query = union_all(
        select(MediaFile.path).where(MediaFile.path.in_(wanted)),
        select(BurialPhoto.path).where(BurialPhoto.path.in_(wanted)),
        select(TalkMaterial.path).where(TalkMaterial.path.in_(wanted)),
    )
    return set(await session.scalars(query))


async def recorded_files(session: AsyncSession) -> list[tuple[str, int, str]]:
    """(table, row id, path) of every stored file a row refers to."""
    memoirs = await session.execute(select(MediaFile.id, MediaFile.path))
    graves = await session.execute(select(BurialPhoto.id, BurialPhoto.path))
    talks = await session.execute(select(TalkMaterial.id, TalkMaterial.path))
    return (
        [("media_files", i, p) for i, p in memoirs]
        + [("burial_photos", i, p) for i, p in graves]
        + [("talk_materials", i, p) for i, p in talks]
    )


async def remove_when_unused(
    session: AsyncSession, store: MediaStore, paths: Iterable[str]
) -> list[str]:
    """After the caller's commit, delete those of `paths` that no row uses any more (rows
    deleted in this session are already flushed, so they no longer count). A crash in
    between leaves an orphan file for the start-up check, never a row without its file.
    Returns the paths that will go."""
    candidates = set(paths)
    unused = sorted(candidates - await paths_in_use(session, candidates))

    async def remove() -> None:
        for path in unused:
            await asyncio.to_thread(store.remove, path)

    if unused:
        after_commit(session, remove)
    return unused
