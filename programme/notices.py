"""What a speaker hears about their talk: accepted into a programme (with their slot in
their own time), changes asked with the organisers' note, declined, or taken out of a
programme. Each is an outbox row of kind "talk:<id>", written when it is sent, so an
acceptance tells the slot as it is then.

How a meeting's time reads in a member's language is the meetings domain's; the wiring
passes that formatter in (`WhenFormat`), so this domain imports no other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member, OutboxMessage, Talk
from delivery.messages import Button, Outgoing
from delivery.rendering import Renderer, Stale
from ground.i18n import N_, Translator
from programme.states import ACCEPTED, CHANGES

KIND_PREFIX = "talk:"
ACCEPTED_IN = "accepted"
ASKED_CHANGES = "changes"
WAS_DECLINED = "declined"
TAKEN_OUT = "removed"
# The button under "changes asked": ("revise", talk id) reopens the proposal.
ACTION = "talk"
REVISE_LABEL = N_("✏️ Revise the proposal")
# A speaker's own reminder comes this long before (scheduling/meetings/lifecycle.py says so
# for the meetings domain; a talk accepted later is told so at once).
REMINDER_LEAD = timedelta(days=1)

# (UTC instant, IANA zone, locale) -> "суббота, 16 января, 10:00"
WhenFormat = Callable[[datetime, str, str], str]


def kind_of(talk_id: int) -> str:
    return f"{KIND_PREFIX}{talk_id}"


def talk_id_of(kind: str) -> int | None:
    tail = kind.removeprefix(KIND_PREFIX)
    return int(tail) if tail.isdigit() else None


async def queue_decision(
    session: AsyncSession,
    talk: Talk,
    decision: str,
    *,
    now: datetime,
    meeting: Meeting | None = None,
) -> None:
    """Tell the speaker (a newer decision replaces one not yet sent)."""
    if talk.member_id is None:
        return
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind == kind_of(talk.id), OutboxMessage.sent_at.is_(None)
        )
    )
    payload: dict[str, object] = {"decision": decision}
    if meeting is not None:  # taken out: the member is told which meeting it left
        payload["start"] = meeting.starts_at.isoformat()
    session.add(
        OutboxMessage(
            member_id=talk.member_id,
            kind=kind_of(talk.id),
            due_at=now,
            payload=json.dumps(payload),
        )
    )


async def forget_talks(session: AsyncSession, talk_ids: list[int]) -> None:
    """Notices about deleted talks are not sent."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind.in_([kind_of(i) for i in talk_ids]),
            OutboxMessage.sent_at.is_(None),
        )
    )


async def slot_of(session: AsyncSession, talk: Talk) -> tuple[int, int, datetime] | None:
    """(number in the programme, talks in it, the talk's start) of an accepted talk."""
    if talk.status != ACCEPTED or talk.meeting_id is None:
        return None
    meeting = await session.get(Meeting, talk.meeting_id)
    if meeting is None:
        return None
    rows = list(
        await session.execute(
            select(Talk.id, Talk.minutes)
            .where(Talk.meeting_id == meeting.id, Talk.status == ACCEPTED)
            .order_by(Talk.position)
        )
    )
    moment = meeting.starts_at
    for number, (talk_id, minutes) in enumerate(rows, 1):
        if talk_id == talk.id:
            return number, len(rows), moment
        moment += timedelta(minutes=minutes or 0)
    return None


def _clock(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


def talk_renderer(i18n: Translator, when: WhenFormat) -> Renderer:
    """What the delivery tick calls for a "talk:<id>" row, at the moment it is sent."""

    async def render_row(
        session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> Outgoing:
        talk_id = talk_id_of(row.kind)
        talk = await session.get(Talk, talk_id) if talk_id is not None else None
        if talk is None or talk.member_id != member.id:
            raise Stale("the talk is gone or no longer this member's")
        decision = str(json.loads(row.payload or "{}").get("decision", ""))
        locale, zone = member.locale, member.zone or "UTC"

        def t(message: str) -> str:
            return i18n.gettext(message, locale=locale)

        def ngettext(singular: str, plural: str, n: int) -> str:
            return i18n.gettext(singular, plural, n, locale=locale)

        title = talk.title or "—"
        note = talk.review_note or "—"
        if decision == ACCEPTED_IN:
            slot = await slot_of(session, talk)
            meeting = await session.get(Meeting, talk.meeting_id) if talk.meeting_id else None
            if slot is None or meeting is None or meeting.status != "scheduled":
                raise Stale("the talk is no longer in a programme")
            number, total, starts_at = slot
            minutes = talk.minutes or 0
            text = "\n".join(
                (
                    t(
                        "Good news: your talk «{title}» is in the programme of the meeting "
                        "on {when} (your time)."
                    ).format(title=title, when=when(meeting.starts_at, zone, locale)),
                    t(
                        "You speak {number} of {total}, from {time} your time, for {duration}."
                    ).format(
                        number=number,
                        total=total,
                        time=_clock(starts_at, zone),
                        duration=ngettext("{count} minute", "{count} minutes", minutes).format(
                            count=minutes
                        ),
                    ),
                    t("A day before, I will remind you and send the link. /mytalks shows it too.")
                    if meeting.starts_at - now > REMINDER_LEAD
                    else t(
                        "The meeting is soon: the link comes with its reminders; /mytalks shows your slot."
                    ),
                )
            )
            return Outgoing(text)
        if decision == ASKED_CHANGES:
            if talk.status != CHANGES:
                raise Stale("the proposal is no longer waiting for changes")
            text = t(
                "The organisers ask you to change your talk proposal «{title}» before they "
                "can accept it. Their note: {note}"
            ).format(title=title, note=note)
            return Outgoing(text, ((Button(t(REVISE_LABEL), ACTION, ("revise", talk.id)),),))
        if decision == WAS_DECLINED:
            text = t(
                "Thank you for proposing the talk «{title}». The organisers could not include "
                "it this time. Their note: {note}"
            ).format(title=title, note=note)
            return Outgoing(text)
        if decision == TAKEN_OUT:
            start = json.loads(row.payload or "{}").get("start")
            moment = datetime.fromisoformat(start) if start else now
            text = t(
                "Your talk «{title}» is no longer in the programme of the meeting on {when}. "
                "The organisers will come back to your proposal."
            ).format(title=title, when=when(moment, zone, locale))
            return Outgoing(text)
        raise ValueError(f"unknown talk decision {decision!r}")

    return render_row
