"""Meetings and their outbox rows: create, reschedule, cancel, link, theme, RSVP.

Plain functions over an AsyncSession; the chat handlers and the planner both confirm
meetings through `create_meeting`, so announcements and reminders follow one path.

Special events (a conference day, a memorial service, an excursion) are meetings of
another `kind`: RSVPs, reminders, notices and feeds work per event as they do for the
monthly meeting. Only the monthly meeting enters the fairness ledger (an event's time is
fixed by its occasion, not chosen by the planner), and `next_meeting` means the monthly
one; `upcoming_meetings` lists them all.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.member_cache import MemberCache, UpcomingMeeting
from db.models import Attendance, Meeting, Member, OutboxMessage, Rsvp
from delivery import club_chat
from scheduling.burden.store import forget_meeting_burden, record_meeting_burden
from scheduling.meetings.reminder_offsets import parse_offset, reminder_kind

ANNOUNCE = "announce"
# After the meeting, members are asked whether they were there (for /stats).
ATTENDANCE = "attendance"
ATTENDANCE_ASK_AFTER_END = timedelta(hours=1)
CANCELLED = "cancelled"
RESCHEDULED = "rescheduled"
RSVP_ANSWERS = ("yes", "maybe", "no")
# How far ahead a meeting may be set: a club plans months ahead, not centuries; a date in
# year 9999 broke every calendar feed.
PLANNING_HORIZON = timedelta(days=3 * 366)


def latest_start(now: datetime) -> datetime:
    return now + PLANNING_HORIZON


def check_start(starts_at: datetime, now: datetime) -> None:
    """A meeting starts in the future and within the planning horizon."""
    if starts_at <= now:
        raise MeetingError("past")
    if starts_at > latest_start(now):
        raise MeetingError("too_far")


# A speaker's own reminder, a day before (the programme: scheduling/meetings/agenda.py).
SPEAKER = "speaker"
SPEAKER_LEAD = timedelta(days=1)
# After the meeting: the recording and summary, to those who said yes or said they came.
SUMMARY = "summary"

MONTHLY = "monthly"
EVENT_KINDS = ("conference", "memorial", "excursion", "event")
MAX_TITLE = 200


class MeetingError(ValueError):
    """A request the organiser must change; `reason` is translated by the chat layer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reminder_rows(meeting: Meeting, member: Member, now: datetime) -> list[OutboxMessage]:
    rows = []
    for token in (t for t in member.reminders.split(",") if t):
        due = meeting.starts_at - parse_offset(token)
        if due < now:
            continue  # already past when the meeting was set: the announcement covers it
        rows.append(
            OutboxMessage(
                meeting_id=meeting.id, member_id=member.id, kind=reminder_kind(token), due_at=due
            )
        )
    return rows


def _attendance_due(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_min) + ATTENDANCE_ASK_AFTER_END


def _attendance_row(meeting: Meeting, member: Member) -> OutboxMessage:
    return OutboxMessage(
        meeting_id=meeting.id, member_id=member.id, kind=ATTENDANCE, due_at=_attendance_due(meeting)
    )


def _active():  # type: ignore[no-untyped-def]
    return (Member.registered_at.is_not(None), Member.reachable.is_(True))


async def _active_members(session: AsyncSession) -> list[Member]:
    query = select(Member).where(*_active())
    return list(await session.scalars(query.order_by(Member.id)))


async def active_member_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Member.id).where(*_active()).order_by(Member.id)))


async def create_meeting(
    session: AsyncSession,
    starts_at: datetime,
    *,
    now: datetime,
    duration_min: int = 90,
    theme: str | None = None,
    source: str = "manual",
    kind: str = MONTHLY,
    title: str | None = None,
    place: str | None = None,
) -> Meeting:
    check_start(starts_at, now)
    if kind != MONTHLY and kind not in EVENT_KINDS:
        raise MeetingError("bad_kind")
    meeting = Meeting(
        uid=f"{uuid.uuid4()}@harbin-club",
        starts_at=starts_at,
        duration_min=duration_min,
        theme=theme,
        source=source,
        kind=kind,
        title=(title or "").strip()[:MAX_TITLE] or None,
        place=(place or "").strip() or None,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    await session.flush()
    for member in await _active_members(session):
        session.add(
            OutboxMessage(meeting_id=meeting.id, member_id=member.id, kind=ANNOUNCE, due_at=now)
        )
        session.add_all(_reminder_rows(meeting, member, now))
        session.add(_attendance_row(meeting, member))
    # Every monthly meeting, planned or set by hand, enters the fairness ledger.
    if meeting.kind == MONTHLY:
        await record_meeting_burden(session, meeting)
    club_chat.queue_post(session, ANNOUNCE, due_at=now, meeting_id=meeting.id)
    await session.flush()
    return meeting


async def queue_for_new_member(session: AsyncSession, member: Member, now: datetime) -> int:
    """A member who joins after meetings or events were set still hears about them."""
    queued = 0
    for meeting in await upcoming_meetings(session, now):
        if meeting.starts_at <= now:
            continue
        existing = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.meeting_id == meeting.id, OutboxMessage.member_id == member.id
            )
        )
        if existing is not None:
            continue
        rows = [
            OutboxMessage(meeting_id=meeting.id, member_id=member.id, kind=ANNOUNCE, due_at=now)
        ]
        rows += _reminder_rows(meeting, member, now)
        rows.append(_attendance_row(meeting, member))
        session.add_all(rows)
        queued += len(rows)
    if queued:
        await session.flush()
    return queued


async def upcoming_meetings(session: AsyncSession, now: datetime) -> list[Meeting]:
    """Every scheduled meeting and event that has not ended yet, soonest first."""
    cache: MemberCache | None = session.info.get("member_cache")
    known = cache.scheduled_meetings() if cache is not None else None
    if known is not None:
        coming = [m for m in known if _not_over(m, now)]
        if not coming:
            return []  # the common case when a member joins: no query at all
        loaded = [await session.get(Meeting, m.id) for m in coming]
        if all(
            meeting is not None
            and meeting.status == "scheduled"
            and meeting.starts_at == cached.starts_at
            for meeting, cached in zip(loaded, coming, strict=True)
        ):
            return [m for m in loaded if m is not None]
        # The cache was a moment behind another instance: ask the database.
    generation = cache.meetings_generation if cache is not None else 0
    query = select(Meeting).where(Meeting.status == "scheduled").order_by(Meeting.starts_at)
    scheduled = list(await session.scalars(query))
    if cache is not None:
        cache.set_scheduled_meetings(scheduled, generation)
    return [meeting for meeting in scheduled if _not_over(meeting, now)]


async def next_meeting(session: AsyncSession, now: datetime) -> Meeting | None:
    """The club's monthly meeting that has not ended yet (special events aside)."""
    cache: MemberCache | None = session.info.get("member_cache")
    known = cache.scheduled_meetings() if cache is not None else None
    if known is not None and not any(m.kind == MONTHLY and _not_over(m, now) for m in known):
        return None  # the common case when a member joins: no query at all
    return next((m for m in await upcoming_meetings(session, now) if m.kind == MONTHLY), None)


def _not_over(meeting: Meeting | UpcomingMeeting, now: datetime) -> bool:
    return meeting.starts_at + timedelta(minutes=meeting.duration_min) > now


async def reschedule_meeting(
    session: AsyncSession, meeting: Meeting, new_start: datetime, *, now: datetime
) -> datetime:
    """Move the meeting: unsent reminders get new due times; everyone gets a notice."""
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    check_start(new_start, now)
    old_start = meeting.starts_at
    if new_start == old_start:
        raise MeetingError("same_time")
    meeting.starts_at = new_start
    meeting.sequence += 1
    meeting.updated_at = now
    # Recompute every reminder from the member's wishes: the new due time, their chosen
    # offsets, and their RSVP ("can't" means no reminders, whatever the date).
    declined = set(
        await session.scalars(
            select(Rsvp.member_id).where(Rsvp.meeting_id == meeting.id, Rsvp.answer == "no")
        )
    )
    rows = await session.execute(
        select(OutboxMessage, Member)
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind.like("remind:%"))
    )
    for row, member in rows:
        offset = row.kind.removeprefix("remind:")
        due = new_start - parse_offset(offset)
        wanted = offset in member.reminders.split(",") and member.id not in declined
        if row.sent_at is not None and (due < now or not wanted):
            continue  # sent for the old time and not needed again
        # Sent for the old time but due again for the new one: send it again.
        row.sent_at, row.due_at, row.attempts, row.last_error = None, due, 0, None
        row.dropped = due < now or not wanted or not member.reachable
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.kind == ATTENDANCE,
            OutboxMessage.sent_at.is_(None),
        )
        .values(due_at=_attendance_due(meeting))
    )
    await _retime_speaker_reminders(session, meeting, now)
    await _queue_notice(session, meeting, RESCHEDULED, now, {"old_start": old_start.isoformat()})
    if meeting.kind == MONTHLY:
        await record_meeting_burden(session, meeting)
    club_chat.queue_post(
        session,
        RESCHEDULED,
        due_at=now,
        meeting_id=meeting.id,
        payload=json.dumps({"old_start": old_start.isoformat()}),
    )
    await session.flush()
    return old_start


async def _retime_speaker_reminders(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    """A speaker's reminder follows the meeting; one sent for the old time goes again."""
    due = meeting.starts_at - SPEAKER_LEAD
    for row in await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind == SPEAKER
        )
    ):
        if row.sent_at is not None and due <= now:
            continue
        row.sent_at, row.due_at, row.attempts, row.last_error = None, due, 0, None
        row.dropped = due <= now


async def cancel_meeting(
    session: AsyncSession, meeting: Meeting, reason: str, *, now: datetime
) -> None:
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    meeting.status = "cancelled"
    meeting.cancel_reason = reason.strip() or None
    meeting.sequence += 1
    meeting.updated_at = now
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.meeting_id == meeting.id, OutboxMessage.sent_at.is_(None)
        )
    )
    await _queue_notice(session, meeting, CANCELLED, now, {"reason": meeting.cancel_reason})
    await forget_meeting_burden(session, meeting)
    club_chat.queue_post(session, CANCELLED, due_at=now, meeting_id=meeting.id)
    await session.flush()


async def _queue_notice(
    session: AsyncSession, meeting: Meeting, kind: str, now: datetime, payload: dict[str, object]
) -> None:
    """One notice per member; a second notice of the same kind replaces an unsent one."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.kind == kind,
        )
    )
    body = json.dumps(payload, ensure_ascii=False)
    for member in await _active_members(session):
        session.add(
            OutboxMessage(
                meeting_id=meeting.id, member_id=member.id, kind=kind, due_at=now, payload=body
            )
        )


async def set_link(session: AsyncSession, meeting: Meeting, link: str, *, now: datetime) -> None:
    meeting.link = link
    meeting.updated_at = now
    await session.flush()


async def set_theme(session: AsyncSession, meeting: Meeting, theme: str, *, now: datetime) -> None:
    meeting.theme = theme.strip() or None
    meeting.updated_at = now
    await session.flush()


async def set_place(session: AsyncSession, meeting: Meeting, place: str, *, now: datetime) -> None:
    """Where an event is held in person (an address); empty clears it."""
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    meeting.place = " ".join(place.split()) or None
    meeting.sequence += 1  # calendars show the place
    meeting.updated_at = now
    await session.flush()


async def summary_recipients(session: AsyncSession, meeting: Meeting) -> list[int]:
    """Members who said they would come, or said afterwards that they were there."""
    came = select(Attendance.member_id).where(
        Attendance.meeting_id == meeting.id, Attendance.attended.is_(True)
    )
    said_yes = select(Rsvp.member_id).where(Rsvp.meeting_id == meeting.id, Rsvp.answer == "yes")
    query = select(Member.id).where(*_active(), or_(Member.id.in_(came), Member.id.in_(said_yes)))
    return list(await session.scalars(query.order_by(Member.id)))


async def set_summary(
    session: AsyncSession,
    meeting: Meeting,
    *,
    recording_link: str | None,
    summary: str | None,
    now: datetime,
) -> int:
    """After the meeting: keep its recording and summary, and send them to everyone who
    said they would come or said they were there. Returns the messages queued; sending
    it again replaces what is still waiting, and reaches only those not yet reached."""
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    if now < meeting.starts_at:
        raise MeetingError("not_started")
    if not (recording_link or summary):
        raise MeetingError("empty")
    meeting.recording_link = recording_link
    meeting.summary = summary
    meeting.summary_at = now
    meeting.updated_at = now
    recipients = set(await summary_recipients(session, meeting))
    reached = set(
        await session.scalars(
            select(OutboxMessage.member_id).where(
                OutboxMessage.meeting_id == meeting.id,
                OutboxMessage.kind == SUMMARY,
                OutboxMessage.sent_at.is_not(None),
            )
        )
    )
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.kind == SUMMARY,
            OutboxMessage.sent_at.is_(None),
        )
    )
    fresh = sorted(recipients - reached)
    session.add_all(
        OutboxMessage(meeting_id=meeting.id, member_id=member_id, kind=SUMMARY, due_at=now)
        for member_id in fresh
    )
    await session.flush()
    return len(fresh)


async def record_rsvp(
    session: AsyncSession, meeting: Meeting, member: Member, answer: str, *, now: datetime
) -> None:
    """Save the answer; "no" stops further reminders (notices still reach them)."""
    if answer not in RSVP_ANSWERS:
        raise MeetingError("bad_answer")
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    if meeting.starts_at + timedelta(minutes=meeting.duration_min) <= now:
        raise MeetingError("past")
    rsvp = await session.scalar(
        select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.member_id == member.id)
    )
    if rsvp is None:
        session.add(
            Rsvp(meeting_id=meeting.id, member_id=member.id, answer=answer, answered_at=now)
        )
    else:
        rsvp.answer, rsvp.answered_at = answer, now
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.member_id == member.id,
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.kind.like("remind:%"), OutboxMessage.kind == ATTENDANCE),
        )
        .values(dropped=answer == "no")
    )
    await session.flush()


async def rsvp_answer(session: AsyncSession, meeting: Meeting, member_id: int) -> str | None:
    """The member's answer for this meeting ("yes", "maybe", "no"), or None."""
    return await session.scalar(
        select(Rsvp.answer).where(Rsvp.meeting_id == meeting.id, Rsvp.member_id == member_id)
    )


async def set_member_reminders(
    session: AsyncSession, member: Member, offsets: tuple[str, ...], *, now: datetime
) -> None:
    """Save which reminders the member wants and bring the coming meeting's rows in line."""
    session.add(member)  # it may come detached from the member cache
    member.reminders = ",".join(offsets)
    for meeting in await upcoming_meetings(session, now):
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.meeting_id == meeting.id,
                    OutboxMessage.member_id == member.id,
                    OutboxMessage.kind.like("remind:%"),
                )
            )
        )
        have = {row.kind: row for row in rows}
        rsvp = await session.scalar(
            select(Rsvp.answer).where(Rsvp.meeting_id == meeting.id, Rsvp.member_id == member.id)
        )
        wanted = {reminder_kind(token) for token in offsets}
        for kind, row in have.items():
            if row.sent_at is None:
                row.dropped = kind not in wanted or rsvp == "no"
        if rsvp != "no":
            session.add_all(r for r in _reminder_rows(meeting, member, now) if r.kind not in have)
    await session.flush()


async def record_attendance(
    session: AsyncSession, meeting: Meeting, member: Member, attended: bool, *, now: datetime
) -> None:
    """The member's own word, once the meeting has begun; a second answer replaces the first."""
    if meeting.status != "scheduled":
        raise MeetingError("cancelled")
    if now < meeting.starts_at:
        raise MeetingError("not_started")
    row = await session.scalar(
        select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.member_id == member.id
        )
    )
    if row is None:
        session.add(
            Attendance(
                meeting_id=meeting.id, member_id=member.id, attended=attended, answered_at=now
            )
        )
    else:
        row.attended, row.answered_at = attended, now
    await session.flush()
