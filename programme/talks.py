"""Talk proposals: a member's draft, its fields and materials, sending it for review, the
organisers' queue and their answers (changes asked, declined), withdrawing.

Plain async functions over an AsyncSession; they add and flush, the caller commits.
Placing an accepted talk in a programme is programme/slots.py.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.media import MediaStore, StoredBlob
from db.media_refs import remove_when_unused
from db.models import Member, Talk, TalkMaterial
from programme import notices
from programme.states import ACCEPTED, CHANGES, DECLINED, DRAFT, PROPOSED

# (The states are read from here by the chat layer too: talks.PROPOSED, ...)
LANGUAGES = ("ru", "en", "zh")
MIN_MINUTES, MAX_MINUTES = 3, 180
MAX_TITLE = 200
MAX_ABSTRACT = 2000
MAX_MATERIALS = 10
# Telegram lets bots download files up to 20 MB (the public Bot API); bigger slides are
# refused before anything is fetched.
MAX_MATERIAL_BYTES = 20 * 1024 * 1024


class TalkError(ValueError):
    """A request the member or organiser must change; `reason` is a short code the chat
    layer translates, `details` fill its placeholders."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


_NUMBER = re.compile(r"^\s*(\d{1,6})\s*(?:min|mins|minutes|мин|минут[аы]?|分钟|分)?\.?\s*$", re.I)


def parse_minutes(text: str) -> int:
    """'20', '20 min', '20 минут', '20分钟' -> 20; TalkError('minutes') for anything else or
    a length outside MIN_MINUTES..MAX_MINUTES."""
    match = _NUMBER.match(text)
    if not match:
        raise TalkError("minutes_format")
    return check_minutes(int(match.group(1)))


def check_minutes(minutes: int) -> int:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise TalkError("minutes", low=MIN_MINUTES, high=MAX_MINUTES)
    return minutes


def clean_title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise TalkError("title_empty")
    if len(title) > MAX_TITLE:
        raise TalkError("title_long", limit=MAX_TITLE)
    return title


def clean_abstract(text: str) -> str:
    abstract = text.strip()
    if not abstract:
        raise TalkError("abstract_empty")
    if len(abstract) > MAX_ABSTRACT:
        raise TalkError("abstract_long", limit=MAX_ABSTRACT)
    return abstract


# ---------------------------------------------------------------------- a member's own


async def create_draft(session: AsyncSession, member: Member, *, now: datetime) -> Talk:
    talk = Talk(
        member_id=member.id,
        speaker_name=member.name,
        status=DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(talk)
    await session.flush()
    return talk


async def load_talk(session: AsyncSession, talk_id: int) -> Talk | None:
    return await session.scalar(
        select(Talk).where(Talk.id == talk_id).options(selectinload(Talk.materials))
    )


async def get_own(session: AsyncSession, member_id: int, talk_id: int) -> Talk | None:
    """The talk only if it is this member's: forged callback ids get None."""
    talk = await load_talk(session, talk_id)
    return talk if talk is not None and talk.member_id == member_id else None


async def set_fields(
    session: AsyncSession,
    talk: Talk,
    *,
    now: datetime,
    title: str | None = None,
    abstract: str | None = None,
    language: str | None = None,
    minutes: int | None = None,
) -> Talk:
    """Change what the speaker wrote; only while it is theirs to change."""
    if talk.status not in (DRAFT, CHANGES):
        raise TalkError("not_editable")
    if title is not None:
        talk.title = clean_title(title)
    if abstract is not None:
        talk.abstract = clean_abstract(abstract)
    if language is not None:
        if language not in LANGUAGES:
            raise TalkError("language")
        talk.language = language
    if minutes is not None:
        talk.minutes = check_minutes(minutes)
    talk.updated_at = now
    await session.flush()
    return talk


def check_material_size(size: int | None) -> None:
    """Refuse a file Telegram will not let the bot fetch, before trying."""
    if size is not None and size > MAX_MATERIAL_BYTES:
        raise TalkError(
            "file_too_big", size=math.ceil(size / 1024**2), limit=MAX_MATERIAL_BYTES // 1024**2
        )


async def material_count(session: AsyncSession, talk: Talk) -> int:
    query = select(func.count()).select_from(TalkMaterial).where(TalkMaterial.talk_id == talk.id)
    return int(await session.scalar(query) or 0)


async def add_material(
    session: AsyncSession,
    talk: Talk,
    blob: StoredBlob,
    *,
    original_name: str | None = None,
    caption: str | None = None,
    telegram_file_id: str | None = None,
) -> TalkMaterial | None:
    """Record a stored file; None when this talk already holds the same content."""
    if talk.status not in (DRAFT, CHANGES):
        raise TalkError("not_editable")
    if await material_count(session, talk) >= MAX_MATERIALS:
        raise TalkError("too_many_files", limit=MAX_MATERIALS)
    exists = await session.scalar(
        select(TalkMaterial.id).where(
            TalkMaterial.talk_id == talk.id, TalkMaterial.sha256 == blob.sha256
        )
    )
    if exists is not None:
        return None
    row = TalkMaterial(
        talk_id=talk.id,
        sha256=blob.sha256,
        path=blob.path,
        mime_type=blob.mime_type,
        size=blob.size,
        original_name=(original_name or "")[:255] or None,
        kind=blob.kind,
        caption=caption,
        telegram_file_id=telegram_file_id,
    )
    session.add(row)
    await session.flush()
    return row


def missing_fields(talk: Talk) -> list[str]:
    return [
        name
        for name, value in (
            ("title", talk.title),
            ("abstract", talk.abstract),
            ("language", talk.language),
            ("minutes", talk.minutes),
        )
        if not value
    ]


async def submit(session: AsyncSession, talk: Talk, *, now: datetime) -> None:
    """Send the proposal (or its revision) to the organisers' queue."""
    if talk.status not in (DRAFT, CHANGES):
        raise TalkError("not_editable")
    if missing_fields(talk):
        raise TalkError("incomplete")
    talk.status = PROPOSED
    talk.submitted_at = now
    talk.updated_at = now
    await session.flush()


async def list_own(session: AsyncSession, member_id: int) -> list[Talk]:
    """A member's talks other than unsent drafts, newest first."""
    rows = await session.scalars(
        select(Talk)
        .where(Talk.member_id == member_id, Talk.status != DRAFT)
        .order_by(Talk.created_at.desc(), Talk.id.desc())
        .options(selectinload(Talk.materials))
    )
    return list(rows)


async def delete_talks(session: AsyncSession, store: MediaStore, talk_ids: list[int]) -> int:
    """Delete talks; their files go once the caller commits, if nothing else uses them."""
    if not talk_ids:
        return 0
    paths = set(
        await session.scalars(select(TalkMaterial.path).where(TalkMaterial.talk_id.in_(talk_ids)))
    )
    await session.execute(delete(TalkMaterial).where(TalkMaterial.talk_id.in_(talk_ids)))
    await notices.forget_talks(session, talk_ids)
    result = await session.execute(delete(Talk).where(Talk.id.in_(talk_ids)))
    await remove_when_unused(session, store, paths)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def withdraw(session: AsyncSession, store: MediaStore, talk: Talk) -> int | None:
    """The speaker takes their talk back (it is deleted). Returns the meeting whose
    programme it leaves, if it was in one."""
    meeting_id = talk.meeting_id if talk.status == ACCEPTED else None
    await delete_talks(session, store, [talk.id])
    await session.flush()
    return meeting_id


# ---------------------------------------------------------------------- organisers' queue


async def next_proposed(session: AsyncSession, after: int = 0) -> Talk | None:
    """The oldest proposal waiting for review (after the id given, to skip one)."""
    return await session.scalar(
        select(Talk)
        .where(Talk.status == PROPOSED, Talk.id > after)
        .order_by(Talk.id)
        .limit(1)
        .options(selectinload(Talk.materials))
    )


async def count_proposed(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Talk).where(Talk.status == PROPOSED)
    return int(await session.scalar(query) or 0)


async def ask_for_changes(session: AsyncSession, talk: Talk, reason: str, *, now: datetime) -> None:
    """Back to the speaker with the organisers' note; they revise it and send it again."""
    if talk.status != PROPOSED:
        raise TalkError("not_proposed")
    talk.status = CHANGES
    talk.review_note = reason.strip()[:MAX_ABSTRACT] or None
    talk.updated_at = now
    await notices.queue_decision(session, talk, notices.ASKED_CHANGES, now=now)
    await session.flush()


async def decline(session: AsyncSession, talk: Talk, reason: str, *, now: datetime) -> None:
    if talk.status != PROPOSED:
        raise TalkError("not_proposed")
    talk.status = DECLINED
    talk.review_note = reason.strip()[:MAX_ABSTRACT] or None
    talk.updated_at = now
    await notices.queue_decision(session, talk, notices.WAS_DECLINED, now=now)
    await session.flush()
