"""Texts of announcements, reminders and notices, in the member's language and zone, and
the renderer the delivery tick calls for the meeting kinds of outbox rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BurdenEntry, Meeting, Member, OutboxMessage
from delivery.messages import Button, Outgoing, rows_of
from delivery.rendering import Renderer, Stale
from ground.i18n import N_, Translator
from scheduling.geo import localtime
from scheduling.meetings import agenda
from scheduling.meetings.event_text import (
    duration_text,
    event_name,
    is_event,
    local_line,
    place_line,
    programme_lines,
)
from scheduling.meetings.lifecycle import (
    ANNOUNCE,
    ATTENDANCE,
    CANCELLED,
    RESCHEDULED,
    SPEAKER,
    SUMMARY,
)
from scheduling.meetings.reminder_offsets import offset_of_kind

RSVP_LABELS = (("yes", N_("✅ I will come")), ("maybe", N_("🤔 Maybe")), ("no", N_("❌ I can't")))

REMINDER_LEADS = {
    "7d": N_("The club meets in a week."),
    "1d": N_("The club meets tomorrow."),
    "1h": N_("The club meets in an hour."),
    "0": N_("The club meeting is starting now!"),
}
EVENT_REMINDER_LEADS = {
    "7d": N_("In a week: {event}."),
    "1d": N_("Tomorrow: {event}."),
    "1h": N_("In an hour: {event}."),
    "0": N_("Starting now: {event}!"),
}


CHOSEN_MARK = "✓ "
YOUR_ANSWER = N_("Your answer: {answer}")


def rsvp_buttons(
    i18n: Translator, locale: str, meeting: Meeting, chosen: str | None = None
) -> tuple[tuple[Button, ...], ...]:
    """The three answers; the one the member gave is marked, so they see it at a glance."""
    buttons = (
        Button(
            (CHOSEN_MARK if answer == chosen else "") + i18n.gettext(label, locale=locale),
            "rsvp",
            (meeting.id, answer),
        )
        for answer, label in RSVP_LABELS
    )
    return rows_of(buttons, 3)


def answer_line(i18n: Translator, locale: str, answer: str) -> str:
    """ "Your answer: ✅ I will come", for the message that carries the buttons."""
    label = dict(RSVP_LABELS)[answer]
    return i18n.gettext(YOUR_ANSWER, locale=locale).format(
        answer=i18n.gettext(label, locale=locale)
    )


def meeting_details(
    i18n: Translator,
    member: Member,
    meeting: Meeting,
    *,
    with_link: bool = True,
    with_when: bool = True,
    with_programme: bool = True,
) -> str:
    """When (in the member's own day and hour), what that hour means for them if it is a
    special event's fixed time, place, theme, programme and link."""
    locale, zone = member.locale, member.zone or "UTC"
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    lines = []
    if with_when:
        lines.append(
            t("When: {when} (your time, {offset})").format(
                when=localtime.format_meeting_time(meeting.starts_at, zone, locale),
                offset=localtime.format_utc_offset(meeting.starts_at, zone),
            )
        )
    if with_when and is_event(meeting):
        lines.append(local_line(t, member, meeting))
    if place := place_line(t, meeting):
        lines.append(place)
    if meeting.theme:
        lines.append(t("Theme: {theme}").format(theme=meeting.theme))
    if with_programme:
        lines += programme_lines(i18n, locale, zone, meeting)
    if with_link and meeting.link:
        lines.append(t("Link: {link}").format(link=meeting.link))
    elif with_link and not meeting.place:
        lines.append(t("The link will come before the meeting."))
    return "\n".join(lines)


def clocks_changed(zone: str, before: datetime, after: datetime) -> bool:
    """True when the member's UTC offset differs between two meetings (a DST change)."""
    tz = ZoneInfo(zone)
    return before.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset()


def render(
    i18n: Translator,
    kind: str,
    member: Member,
    meeting: Meeting,
    payload: str | None,
    previous_start: datetime | None = None,
    hard_hour: bool = False,
) -> Outgoing:
    locale = member.locale
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    zone = member.zone or "UTC"
    data = json.loads(payload) if payload else {}
    event = is_event(meeting)
    name = event_name(t, meeting) if event else ""
    if kind == ANNOUNCE:
        heading = (
            t("The club announces a special event: {event}").format(event=name)
            if event
            else t("A new club meeting is set!")
        )
        text = heading + "\n" + meeting_details(i18n, member, meeting)
        if hard_hour:
            text += "\n\n" + t(
                "We know this hour is hard for you. The planner remembers it: the coming months will favour your hours."
            )
        return Outgoing(text + "\n\n" + t("Will you come?"), rsvp_buttons(i18n, locale, meeting))
    if kind == CANCELLED:
        when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
        if event:
            text = t("{event} on {when} is cancelled.").format(event=name, when=when)
        else:
            text = t("The club meeting on {when} is cancelled.").format(when=when)
        if data.get("reason"):
            text += "\n" + t("Reason: {reason}").format(reason=data["reason"])
        return Outgoing(text)
    if kind == RESCHEDULED:
        old = datetime.fromisoformat(data["old_start"])
        times = {
            "old": localtime.format_meeting_time(old, zone, locale),
            "new": localtime.format_meeting_time(meeting.starts_at, zone, locale),
        }
        if event:
            text = t("{event} has moved.\nWas: {old}\nNow: {new}").format(event=name, **times)
        else:
            text = t("The club meeting has moved.\nWas: {old}\nNow: {new}").format(**times)
        # "Now:" already says the new time: the details add the rest, not the time again.
        details = meeting_details(i18n, member, meeting, with_when=False)
        return Outgoing(text + "\n" + details, rsvp_buttons(i18n, locale, meeting))
    if kind == ATTENDANCE:
        when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
        if event:
            text = t("Were you at {event} on {when}? Your answer helps the organisers.").format(
                event=name, when=when
            )
        else:
            text = t(
                "Were you at the club meeting on {when}? Your answer helps the organisers."
            ).format(when=when)
        buttons = (
            Button(t("Yes, I was there"), "attend", (meeting.id, True)),
            Button(t("No, I couldn't come"), "attend", (meeting.id, False)),
        )
        return Outgoing(text, rows_of(buttons, 2))
    if kind == agenda.PROGRAMME:
        return programme_notice(i18n, member, meeting)
    if kind == SPEAKER:
        return speaker_reminder(i18n, member, meeting)
    if kind == SUMMARY:
        return summary_notice(i18n, member, meeting)
    offset = offset_of_kind(kind)
    if offset is not None:
        if event:
            template = EVENT_REMINDER_LEADS.get(offset, N_("A reminder: {event}."))
            lead = t(template).format(event=name)
        else:
            template = REMINDER_LEADS.get(offset, N_("A reminder about the club meeting."))
            lead = t(template)
        text = (
            lead
            + "\n"
            + meeting_details(
                i18n, member, meeting, with_link=offset in ("0", "1h") or bool(meeting.link)
            )
        )
        if previous_start is not None and clocks_changed(zone, previous_start, meeting.starts_at):
            text += "\n" + t(
                "Note: your clocks have changed since the last meeting, so its local hour may differ from last month's."
            )
        buttons = () if offset == "0" else rsvp_buttons(i18n, locale, meeting)
        return Outgoing(text, buttons)
    raise ValueError(f"unknown outbox kind {kind!r}")


def _meeting_phrase(t, meeting: Meeting, when: str) -> str:  # type: ignore[no-untyped-def]
    if is_event(meeting):
        return t("{event} on {when}").format(event=event_name(t, meeting), when=when)
    return t("the club meeting on {when}").format(when=when)


def programme_notice(i18n: Translator, member: Member, meeting: Meeting) -> Outgoing:
    """The programme as it is now: sent once after a burst of changes."""
    locale, zone = member.locale, member.zone or "UTC"
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
    text = t("The programme of {meeting} has changed.").format(
        meeting=_meeting_phrase(t, meeting, when)
    )
    lines = programme_lines(i18n, locale, zone, meeting)
    text += "\n" + ("\n".join(lines) if lines else t("There are no talks in it for now."))
    return Outgoing(text)


def speaker_reminder(i18n: Translator, member: Member, meeting: Meeting) -> Outgoing:
    """A speaker's own reminder: their slots in their own time, and how to join."""
    locale, zone = member.locale, member.zone or "UTC"
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    mine = [s for s in agenda.timed(meeting) if s.item.speaker_id == member.id]
    if not mine:
        raise Stale("no longer a speaker of this meeting")
    when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
    lines = [
        t("Your talk is coming up at {meeting} (your time).").format(
            meeting=_meeting_phrase(t, meeting, when)
        )
    ]
    total = len(agenda.items_of(meeting))
    for slot in mine:
        lines.append(
            t("«{title}»: talk {number} of {total}, from {time} your time, {duration}.").format(
                title=slot.item.title,
                number=slot.number,
                total=total,
                time=f"{localtime.to_local(slot.starts_at, zone):%H:%M}",
                duration=duration_text(i18n, locale, slot.item.minutes),
            )
        )
    if meeting.link:
        lines.append(t("Link: {link}").format(link=meeting.link))
    elif place := place_line(t, meeting):
        lines.append(place)
    else:
        lines.append(t("The link will come before the meeting."))
    lines.append(t("Thank you for speaking to the club!"))
    return Outgoing("\n".join(lines))


def summary_notice(i18n: Translator, member: Member, meeting: Meeting) -> Outgoing:
    """After the meeting: what organisers wrote, and the recording."""
    locale, zone = member.locale, member.zone or "UTC"
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
    lines = [t("After {meeting}:").format(meeting=_meeting_phrase(t, meeting, when))]
    if meeting.summary:
        lines.append(meeting.summary)
    if meeting.recording_link:
        lines.append(t("Recording: {link}").format(link=meeting.recording_link))
    lines.append(t("Thank you for being with the club!"))
    return Outgoing("\n\n".join(lines))


ATTENDANCE_ASK_WITHIN = timedelta(days=7)

# A meeting that costs a member this much (the benchmark's scale: 4 = 07-08 or 22-23
# local) or touches their night earns them the note that later months favour them.
HARD_HOUR_COST = 4.0


def is_stale(kind: str, meeting: Meeting, now: datetime) -> bool:
    """Too late to be useful: reminders after the start, anything after the end."""
    end = meeting.starts_at + timedelta(minutes=meeting.duration_min)
    if kind == ATTENDANCE:
        return now >= end + ATTENDANCE_ASK_WITHIN  # it is asked after the end, but not weeks after
    if kind == SUMMARY:
        return meeting.status != "scheduled"  # sent after the meeting by design
    if now >= end:
        return True
    if kind in (agenda.PROGRAMME, SPEAKER):
        return now >= meeting.starts_at or meeting.status != "scheduled"
    offset = offset_of_kind(kind)
    return offset is not None and offset != "0" and now >= meeting.starts_at


MEETING_KINDS = (
    ANNOUNCE,
    CANCELLED,
    RESCHEDULED,
    ATTENDANCE,
    "remind:",
    agenda.PROGRAMME,
    SPEAKER,
    SUMMARY,
)


def meeting_renderer(i18n: Translator) -> Renderer:
    """What the delivery tick calls for a meeting's row, at the moment it is sent."""

    async def render_row(
        session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> Outgoing:
        meeting = await session.get(Meeting, row.meeting_id) if row.meeting_id else None
        if meeting is None:
            raise Stale("meeting deleted")
        if is_stale(row.kind, meeting, now):
            raise Stale(f"meeting at {meeting.starts_at.isoformat()} has begun or ended")
        # Each lookup only for the kind that uses it: this runs once per message sent.
        previous = None
        if offset_of_kind(row.kind) is not None:  # reminders note a DST change since then
            previous = await session.scalar(
                select(Meeting.starts_at)
                .where(Meeting.starts_at < meeting.starts_at, Meeting.status == "scheduled")
                .order_by(Meeting.starts_at.desc())
                .limit(1)
            )
        hard = False
        if row.kind == ANNOUNCE:  # the announcement tells a hard hour's member of better ones
            burden = (
                await session.execute(
                    select(BurdenEntry.cost, BurdenEntry.night).where(
                        BurdenEntry.meeting_id == meeting.id, BurdenEntry.member_id == member.id
                    )
                )
            ).first()
            hard = burden is not None and (burden.night or burden.cost >= HARD_HOUR_COST)
        return render(i18n, row.kind, member, meeting, row.payload, previous, hard_hour=hard)

    return render_row
