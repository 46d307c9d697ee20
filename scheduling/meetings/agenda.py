"""A meeting's programme as members see it: the talks in order, each with its minutes.

What goes into a programme is decided by the programme domain (programme/: proposals,
review, slots). The published copy lives on the meeting (`Meeting.programme`, JSON), so
every notice, /next, the club chat and the calendar feed read the same thing without
knowing that domain; publishing raises the meeting's SEQUENCE, so calendars refresh.

Members hear of a change once, not once per edit: each change pushes the waiting notice
back by a quiet period (never beyond MAX_HOLD after the first change of the burst), and
the notice is written when it finally goes out, from the programme as it then is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member, OutboxMessage, Rsvp
from delivery import club_chat
from scheduling.meetings.lifecycle import (
    ANNOUNCE,
    SPEAKER,
    SPEAKER_LEAD,
    MeetingError,
    active_member_ids,
)

PROGRAMME = "programme"  # outbox kind: the programme has changed (to members, to the club chat)
QUIET = timedelta(minutes=10)
MAX_HOLD = timedelta(hours=1)


class ItemLike(Protocol):
    """What the programme domain hands over for each slot (in order)."""

    title: str
    minutes: int
    speaker: str | None
    language: str | None
    speaker_id: int | None
    ref: int | None


@dataclass(frozen=True)
class ProgrammeItem:
    title: str
    minutes: int
    speaker: str | None = None
    language: str | None = None
    speaker_id: int | None = None  # the speaker's member id: their own reminder
    ref: int | None = None  # the talk's id in the programme domain


@dataclass(frozen=True)
class TimedItem:
    number: int  # 1, 2, ... in programme order
    item: ProgrammeItem
    starts_at: datetime
    ends_at: datetime


def _item(data: object) -> ProgrammeItem | None:
    if not isinstance(data, dict):
        return None
    title, minutes = data.get("title"), data.get("minutes")
    if not isinstance(title, str) or not isinstance(minutes, int):
        return None

    def optional(key: str, kind: type) -> object:
        value = data.get(key)
        return value if isinstance(value, kind) else None

    return ProgrammeItem(
        title=title,
        minutes=minutes,
        speaker=optional("speaker", str),  # type: ignore[arg-type]
        language=optional("language", str),  # type: ignore[arg-type]
        speaker_id=optional("speaker_id", int),  # type: ignore[arg-type]
        ref=optional("ref", int),  # type: ignore[arg-type]
    )


def items_of(meeting: object) -> list[ProgrammeItem]:
    """The published programme of a meeting (or of anything with a `programme` JSON)."""
    raw = getattr(meeting, "programme", None)
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [item for item in map(_item, data) if item is not None]


def encode(items: Sequence[ItemLike]) -> str | None:
    if not items:
        return None
    return json.dumps(
        [
            {
                "title": i.title,
                "minutes": int(i.minutes),
                "speaker": i.speaker,
                "language": i.language,
                "speaker_id": i.speaker_id,
                "ref": i.ref,
            }
            for i in items
        ],
        ensure_ascii=False,
    )


def timed(meeting: Meeting) -> list[TimedItem]:
    """Each item with its start and end: the talks follow one another from the start."""
    result = []
    moment = meeting.starts_at
    for number, item in enumerate(items_of(meeting), 1):
        end = moment + timedelta(minutes=item.minutes)
        result.append(TimedItem(number, item, moment, end))
        moment = end
    return result


def _since(payload: str | None, default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(json.loads(payload or "{}")["since"])
    except (ValueError, KeyError, TypeError):
        return default


def quiet_due(first_change: datetime, now: datetime) -> datetime:
    """When a notice of a burst of changes goes out: a quiet period after the latest one,
    but no later than MAX_HOLD after the first."""
    return max(now, min(now + QUIET, first_change + MAX_HOLD))


async def set_programme(
    session: AsyncSession, meeting: Meeting, items: Sequence[ItemLike], *, now: datetime
) -> bool:
    """Publish the programme; False when nothing members see has changed.

    Raises MeetingError for a cancelled meeting or one that is over.
    """
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    if meeting.starts_at + timedelta(minutes=meeting.duration_min) <= now:
        raise MeetingError("past")
    published = encode(items)
    if published == meeting.programme:
        return False
    meeting.programme = published
    meeting.sequence += 1  # calendars take the new DESCRIPTION
    meeting.updated_at = now
    due = await _queue_notices(session, meeting, now)
    if not await _announcement_waits(session, meeting):  # else the post carries the programme
        await club_chat.queue_quiet_post(session, PROGRAMME, meeting.id, due_at=due)
    await sync_speaker_reminders(session, meeting, now=now)
    await session.flush()
    return True


async def rewrite_programme(
    session: AsyncSession, meeting: Meeting, items: Sequence[ItemLike], *, now: datetime
) -> bool:
    """Correct the published programme of a meeting that is over or cancelled (a speaker
    who left takes their name along), without telling anyone; calendars still refresh."""
    published = encode(items)
    if published == meeting.programme:
        return False
    meeting.programme = published
    meeting.sequence += 1
    meeting.updated_at = now
    await session.flush()
    return True


async def _announcement_waits(session: AsyncSession, meeting: Meeting) -> bool:
    """Whether the club chat's announcement of this meeting is still to be posted."""
    waiting = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.kind == club_chat.PREFIX + ANNOUNCE,
            OutboxMessage.member_id.is_(None),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dropped.is_(False),
        )
        .limit(1)
    )
    return waiting is not None


async def _queue_notices(session: AsyncSession, meeting: Meeting, now: datetime) -> datetime:
    """One waiting notice per member, pushed back by this change; returns its due time."""
    rows = list(
        await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.meeting_id == meeting.id,
                OutboxMessage.kind == PROGRAMME,
                OutboxMessage.member_id.is_not(None),
            )
        )
    )
    waiting = [r for r in rows if r.sent_at is None and not r.dropped]
    first = min((_since(r.payload, now) for r in waiting), default=now)
    due = quiet_due(first, now)
    body = json.dumps({"since": first.isoformat()})
    # A notice already sent makes room for the next one (one row per member and kind).
    done = [r.id for r in rows if r.sent_at is not None or r.dropped]
    if done:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(done)))
    for row in waiting:
        row.due_at, row.payload = due, body
    have = {r.member_id for r in waiting}
    # Members whose announcement has not gone out yet read the programme there; those who
    # said they cannot come are spared the details.
    skip = set(
        await session.scalars(
            select(OutboxMessage.member_id).where(
                OutboxMessage.meeting_id == meeting.id,
                OutboxMessage.kind == ANNOUNCE,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.dropped.is_(False),
            )
        )
    ) | set(
        await session.scalars(
            select(Rsvp.member_id).where(Rsvp.meeting_id == meeting.id, Rsvp.answer == "no")
        )
    )
    session.add_all(
        OutboxMessage(
            meeting_id=meeting.id, member_id=member_id, kind=PROGRAMME, due_at=due, payload=body
        )
        for member_id in await active_member_ids(session)
        if member_id not in have and member_id not in skip
    )
    return due


async def sync_speaker_reminders(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    """Each speaker of the programme has one reminder, a day before the start (a moved
    meeting re-times them in lifecycle.reschedule_meeting).

    Accepted less than a day before, a speaker has none (their acceptance told them).
    """
    speakers = {i.speaker_id for i in items_of(meeting) if i.speaker_id is not None}
    due = meeting.starts_at - SPEAKER_LEAD
    rows = {
        row.member_id: row
        for row in await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind == SPEAKER
            )
        )
    }
    for member_id, row in rows.items():
        if member_id not in speakers:
            if row.sent_at is None:
                await session.delete(row)
            continue
        if row.sent_at is None:
            row.due_at, row.dropped = due, False
    if due <= now:
        return
    known = set(
        await session.scalars(
            select(Member.id).where(Member.id.in_(speakers - rows.keys()), Member.reachable)
        )
    )
    session.add_all(
        OutboxMessage(meeting_id=meeting.id, member_id=member_id, kind=SPEAKER, due_at=due)
        for member_id in sorted(known)
    )
