"""/forget for talks: a leaving member's proposals go; accepted talks may stay in the
programmes and the proceedings without their name, if they choose (as memoirs do)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.media import MediaStore
from db.models import Talk
from programme.states import ACCEPTED
from programme.talks import delete_talks


async def count_accepted(session: AsyncSession, member_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Talk)
        .where(Talk.member_id == member_id, Talk.status == ACCEPTED)
    )
    return int(await session.scalar(query) or 0)


async def forget_member_talks(
    session: AsyncSession, store: MediaStore, member_id: int, *, keep_accepted: bool
) -> set[int]:
    """Before the member row goes: delete their talks and files, or keep the accepted ones
    without a name. Returns the meetings whose programme changed (to publish again)."""
    talks = list(await session.scalars(select(Talk).where(Talk.member_id == member_id)))
    changed: set[int] = set()
    doomed: list[int] = []
    for talk in talks:
        if talk.status == ACCEPTED and talk.meeting_id is not None:
            changed.add(talk.meeting_id)
        if keep_accepted and talk.status == ACCEPTED:
            talk.member_id = None
            talk.speaker_name = None
        else:
            doomed.append(talk.id)
    await delete_talks(session, store, doomed)
    await session.flush()
    return changed
