"""Read-only views of programmes for other interfaces: the web page of a meeting, and the
proceedings chapters of the exported book. Plain frozen data, detached from the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Meeting, Talk, TalkMaterial
from programme.states import ACCEPTED


@dataclass(frozen=True)
class MaterialView:
    """A file of a talk in the media store (serve it as db/filetypes.py says)."""

    id: int
    kind: str  # photo | voice | document
    path: str
    mime_type: str
    size: int
    sha256: str
    original_name: str | None
    caption: str | None


@dataclass(frozen=True)
class SlotView:
    number: int
    talk_id: int
    title: str
    abstract: str | None
    speaker: str | None  # None: the speaker left and kept the talk without their name
    language: str | None
    minutes: int
    starts_at: datetime
    ends_at: datetime
    materials: tuple[MaterialView, ...]


@dataclass(frozen=True)
class ProgrammeView:
    """A meeting or event and its programme, in order."""

    meeting_id: int
    kind: str
    title: str | None
    theme: str | None
    starts_at: datetime
    duration_min: int
    status: str
    recording_link: str | None
    summary: str | None
    slots: tuple[SlotView, ...]


def _material(row: TalkMaterial) -> MaterialView:
    return MaterialView(
        id=row.id,
        kind=row.kind,
        path=row.path,
        mime_type=row.mime_type,
        size=row.size,
        sha256=row.sha256,
        original_name=row.original_name,
        caption=row.caption,
    )


def _view(meeting: Meeting, talks: list[Talk]) -> ProgrammeView:
    slots = []
    moment = meeting.starts_at
    for number, talk in enumerate(talks, 1):
        end = moment + timedelta(minutes=talk.minutes or 0)
        slots.append(
            SlotView(
                number=number,
                talk_id=talk.id,
                title=talk.title or "—",
                abstract=talk.abstract,
                speaker=talk.speaker_name,
                language=talk.language,
                minutes=talk.minutes or 0,
                starts_at=moment,
                ends_at=end,
                materials=tuple(_material(m) for m in talk.materials),
            )
        )
        moment = end
    return ProgrammeView(
        meeting_id=meeting.id,
        kind=meeting.kind,
        title=meeting.title,
        theme=meeting.theme,
        starts_at=meeting.starts_at,
        duration_min=meeting.duration_min,
        status=meeting.status,
        recording_link=meeting.recording_link,
        summary=meeting.summary,
        slots=tuple(slots),
    )


async def _talks(session: AsyncSession, meeting_id: int) -> list[Talk]:
    rows = await session.scalars(
        select(Talk)
        .where(Talk.meeting_id == meeting_id, Talk.status == ACCEPTED)
        .order_by(Talk.position)
        .options(selectinload(Talk.materials))
    )
    return list(rows)


async def programme_for_meeting(session: AsyncSession, meeting_id: int) -> ProgrammeView | None:
    """A meeting's programme for its web page: talks in order, their times (UTC), speakers,
    abstracts and materials. None for an unknown meeting."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return None
    return _view(meeting, await _talks(session, meeting.id))


async def proceedings(session: AsyncSession, *, now: datetime) -> list[ProgrammeView]:
    """The proceedings: every meeting that has taken place with talks or a summary, oldest
    first. The collection grows by itself as meetings happen."""
    has_talks = exists().where(Talk.meeting_id == Meeting.id, Talk.status == ACCEPTED)
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.status == "scheduled",
                Meeting.starts_at <= now,
                or_(has_talks, Meeting.summary.is_not(None), Meeting.recording_link.is_not(None)),
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    return [_view(meeting, await _talks(session, meeting.id)) for meeting in meetings]
