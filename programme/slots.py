"""Programmes: accepted talks placed in a meeting's slots (one talk per slot), their order
and minutes, and the programme as it is published.

Each change returns the id of the meeting whose programme changed; the caller publishes
`published_items` for it through the meetings domain (scheduling/meetings/agenda.py), in
the same transaction, so members and calendars hear of it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Talk
from programme import notices
from programme.states import ACCEPTED, PROPOSED
from programme.talks import TalkError, check_minutes

MAX_POSITION = 60


@dataclass(frozen=True)
class PublishedItem:
    """One slot as members see it (scheduling.meetings.agenda.ItemLike)."""

    title: str
    minutes: int
    speaker: str | None
    language: str | None
    speaker_id: int | None
    ref: int | None


async def open_meetings(session: AsyncSession, now: datetime) -> list[Meeting]:
    """Meetings and events a talk can still join: scheduled, not yet begun."""
    rows = await session.scalars(
        select(Meeting)
        .where(Meeting.status == "scheduled", Meeting.starts_at > now)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


async def programme_talks(session: AsyncSession, meeting_id: int) -> list[Talk]:
    rows = await session.scalars(
        select(Talk)
        .where(Talk.meeting_id == meeting_id, Talk.status == ACCEPTED)
        .order_by(Talk.position)
    )
    return list(rows)


async def planned_minutes(session: AsyncSession, meeting_id: int, *, without: int = 0) -> int:
    query = select(func.coalesce(func.sum(Talk.minutes), 0)).where(
        Talk.meeting_id == meeting_id, Talk.status == ACCEPTED, Talk.id != without
    )
    return int(await session.scalar(query) or 0)


async def _open_meeting(session: AsyncSession, meeting_id: int | None, now: datetime) -> Meeting:
    meeting = await session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        raise TalkError("no_meeting")
    if meeting.status != "scheduled":
        raise TalkError("cancelled")
    if meeting.starts_at <= now:
        raise TalkError("started")
    return meeting


async def _check_fits(session: AsyncSession, meeting: Meeting, talk: Talk, minutes: int) -> None:
    total = await planned_minutes(session, meeting.id, without=talk.id) + minutes
    if total > meeting.duration_min:
        raise TalkError("too_long", total=total, length=meeting.duration_min)


async def accept(
    session: AsyncSession,
    talk: Talk,
    *,
    meeting_id: int,
    position: int,
    minutes: int,
    now: datetime,
) -> int:
    """Place a proposed talk in a slot of a meeting's programme. Refused (TalkError): a
    cancelled or begun meeting, a slot that holds another talk, a length out of bounds,
    a programme that would outlast the meeting."""
    if talk.status != PROPOSED:
        raise TalkError("not_proposed")
    meeting = await _open_meeting(session, meeting_id, now)
    check_minutes(minutes)
    if not 1 <= position <= MAX_POSITION:
        raise TalkError("position", limit=MAX_POSITION)
    occupant = await session.scalar(
        select(Talk).where(Talk.meeting_id == meeting.id, Talk.position == position)
    )
    if occupant is not None:
        raise TalkError("slot_taken", position=position, title=occupant.title or "—")
    await _check_fits(session, meeting, talk, minutes)
    talk.status = ACCEPTED
    talk.meeting_id, talk.position, talk.minutes = meeting.id, position, minutes
    talk.review_note = None
    talk.updated_at = now
    await notices.queue_decision(session, talk, notices.ACCEPTED_IN, now=now)
    await session.flush()
    return meeting.id


async def _placed(session: AsyncSession, talk: Talk, now: datetime) -> Meeting:
    if talk.status != ACCEPTED or talk.meeting_id is None:
        raise TalkError("not_in_programme")
    return await _open_meeting(session, talk.meeting_id, now)


async def move(session: AsyncSession, talk: Talk, step: int, *, now: datetime) -> int:
    """Swap the talk with its neighbour before (step -1) or after (+1) it."""
    meeting = await _placed(session, talk, now)
    talks = await programme_talks(session, meeting.id)
    index = next(i for i, t in enumerate(talks) if t.id == talk.id)
    other_index = index + step
    if step not in (-1, 1) or not 0 <= other_index < len(talks):
        raise TalkError("no_neighbour")
    other = talks[other_index]
    mine, theirs = talk.position, other.position
    # One talk per slot holds at every flush: park one outside the numbering first.
    talk.position = -talk.id
    await session.flush()
    other.position = mine
    await session.flush()
    talk.position = theirs
    talk.updated_at = other.updated_at = now
    await session.flush()
    return meeting.id


async def set_minutes(session: AsyncSession, talk: Talk, minutes: int, *, now: datetime) -> int:
    meeting = await _placed(session, talk, now)
    check_minutes(minutes)
    await _check_fits(session, meeting, talk, minutes)
    talk.minutes = minutes
    talk.updated_at = now
    await session.flush()
    return meeting.id


async def take_out(session: AsyncSession, talk: Talk, *, now: datetime) -> int:
    """Out of the programme and back in the queue; the speaker is told."""
    meeting = await _placed(session, talk, now)
    talk.status = PROPOSED
    talk.meeting_id = talk.position = None
    talk.updated_at = now
    await notices.queue_decision(session, talk, notices.TAKEN_OUT, now=now, meeting=meeting)
    await session.flush()
    return meeting.id


async def release_cancelled(session: AsyncSession, meeting_id: int, *, now: datetime) -> int:
    """A cancelled meeting's talks go back to the queue, to be placed in another meeting;
    each speaker is told. Returns how many."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.status == "scheduled":
        return 0
    placed = await programme_talks(session, meeting_id)
    for talk in placed:
        talk.status = PROPOSED
        talk.meeting_id = talk.position = None
        talk.updated_at = now
        await notices.queue_decision(session, talk, notices.TAKEN_OUT, now=now, meeting=meeting)
    await session.flush()
    return len(placed)


async def free_positions(session: AsyncSession, meeting_id: int) -> tuple[list[int], int]:
    """(taken slot numbers, the first slot after them)."""
    taken = sorted(
        p
        for p in await session.scalars(
            select(Talk.position).where(Talk.meeting_id == meeting_id, Talk.position.is_not(None))
        )
        if p is not None
    )
    return taken, (taken[-1] + 1 if taken else 1)


async def published_items(session: AsyncSession, meeting_id: int) -> list[PublishedItem]:
    """The programme of a meeting as members see it, in order."""
    return [
        PublishedItem(
            title=talk.title or "—",
            minutes=talk.minutes or 0,
            speaker=talk.speaker_name,
            language=talk.language,
            speaker_id=talk.member_id,
            ref=talk.id,
        )
        for talk in await programme_talks(session, meeting_id)
    ]


def slot_starts(meeting: Meeting, talks: list[Talk]) -> list[datetime]:
    """When each talk of a programme (in order) begins."""
    starts, moment = [], meeting.starts_at
    for talk in talks:
        starts.append(moment)
        moment += timedelta(minutes=talk.minutes or 0)
    return starts
