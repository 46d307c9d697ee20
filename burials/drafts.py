"""A record a member is still adding (/addgrave): their answers so far, one draft per
member, kept in the database so a restart or a detour to another command loses nothing.
It goes when the record is stored, when they cancel, or with the member (/forget).

Values are the texts they typed (checked as they go); the photo is Telegram's file
reference, fetched when they confirm, so nothing is written to the media store for a
draft that is never finished.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from burials.records import APPROVED
from db.models import BurialDraft, BurialRecord

Draft = dict[str, object]


async def load_draft(session: AsyncSession, member_id: int) -> Draft | None:
    row = await session.get(BurialDraft, member_id, populate_existing=True)
    if row is None:
        return None
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def save_draft(session: AsyncSession, member_id: int, draft: Draft) -> None:
    text = json.dumps(draft, ensure_ascii=False)
    row = await session.get(BurialDraft, member_id)
    if row is None:
        session.add(BurialDraft(member_id=member_id, data=text))
    else:
        row.data = text
    await session.flush()


async def drop_draft(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(BurialDraft).where(BurialDraft.member_id == member_id))
    await session.flush()


async def common_cemeteries(session: AsyncSession, limit: int = 6) -> list[str]:
    """The cemeteries most records name, for buttons (most first, then by name)."""
    count = func.count().label("n")
    rows = await session.execute(
        select(BurialRecord.cemetery, count)
        .where(BurialRecord.status == APPROVED, BurialRecord.cemetery.is_not(None))
        .group_by(BurialRecord.cemetery)
        .order_by(count.desc(), BurialRecord.cemetery)
        .limit(limit)
    )
    return [cemetery for cemetery, _n in rows if cemetery]
