"""Texts of announcements, reminders and notices, in the member's language and zone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from db.models import Meeting, Member
from ground.i18n import N_
from handlers.callbacks import AttendCb, RsvpCb
from handlers.keyboards import Keyboard
from scheduling.geo import localtime
from scheduling.meetings.lifecycle import ANNOUNCE, ATTENDANCE, CANCELLED, RESCHEDULED
from scheduling.meetings.reminder_offsets import offset_of_kind

RSVP_LABELS = (("yes", N_("✅ I will come")), ("maybe", N_("🤔 Maybe")), ("no", N_("❌ I can't")))

REMINDER_LEADS = {
    "7d": N_("The club meets in a week."),
    "1d": N_("The club meets tomorrow."),
    "1h": N_("The club meets in an hour."),
    "0": N_("The club meeting is starting now!"),
}


def rsvp_markup(i18n: I18n, locale: str, meeting: Meeting) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for answer, label in RSVP_LABELS:
        builder.button(
            text=i18n.gettext(label, locale=locale),
            callback_data=RsvpCb(meeting_id=meeting.id, answer=answer),
        )
    builder.adjust(3)
    return builder.as_markup()


def meeting_details(i18n: I18n, member: Member, meeting: Meeting, *, with_link: bool = True) -> str:
    """When (in the member's own day and hour), theme and link."""
    locale, zone = member.locale, member.zone or "UTC"
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    lines = [
        t("When: {when} (your time, {offset})").format(
            when=localtime.format_meeting_time(meeting.starts_at, zone, locale),
            offset=localtime.format_utc_offset(meeting.starts_at, zone),
        )
    ]
    if meeting.theme:
        lines.append(t("Theme: {theme}").format(theme=meeting.theme))
    if with_link and meeting.link:
        lines.append(t("Link: {link}").format(link=meeting.link))
    elif with_link:
        lines.append(t("The link will come before the meeting."))
    return "\n".join(lines)


def clocks_changed(zone: str, before: datetime, after: datetime) -> bool:
    """True when the member's UTC offset differs between two meetings (a DST change)."""
    tz = ZoneInfo(zone)
    return before.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset()


def render(
    i18n: I18n,
    kind: str,
    member: Member,
    meeting: Meeting,
    payload: str | None,
    previous_start: datetime | None = None,
    hard_hour: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    locale = member.locale
    t = lambda msg: i18n.gettext(msg, locale=locale)  # noqa: E731 - local shorthand
    zone = member.zone or "UTC"
    data = json.loads(payload) if payload else {}
    if kind == ANNOUNCE:
        text = t("A new club meeting is set!") + "\n" + meeting_details(i18n, member, meeting)
        if hard_hour:
            text += "\n\n" + t(
                "We know this hour is hard for you. The planner remembers it: the coming months will favour your hours."
            )
        return text + "\n\n" + t("Will you come?"), rsvp_markup(i18n, locale, meeting)
    if kind == CANCELLED:
        when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
        text = t("The club meeting on {when} is cancelled.").format(when=when)
        if data.get("reason"):
            text += "\n" + t("Reason: {reason}").format(reason=data["reason"])
        return text, None
    if kind == RESCHEDULED:
        old = datetime.fromisoformat(data["old_start"])
        text = t("The club meeting has moved.\nWas: {old}\nNow: {new}").format(
            old=localtime.format_meeting_time(old, zone, locale),
            new=localtime.format_meeting_time(meeting.starts_at, zone, locale),
        )
        return text + "\n" + meeting_details(i18n, member, meeting), rsvp_markup(
            i18n, locale, meeting
        )
    if kind == ATTENDANCE:
        when = localtime.format_meeting_time(meeting.starts_at, zone, locale)
        text = t(
            "Were you at the club meeting on {when}? Your answer helps the organisers."
        ).format(when=when)
        builder = Keyboard()
        builder.button(
            text=t("Yes, I was there"), callback_data=AttendCb(meeting_id=meeting.id, attended=True)
        )
        builder.button(
            text=t("No, I couldn't come"),
            callback_data=AttendCb(meeting_id=meeting.id, attended=False),
        )
        return text, builder.adjust(2).as_markup()
    offset = offset_of_kind(kind)
    if offset is not None:
        lead = REMINDER_LEADS.get(offset, N_("A reminder about the club meeting."))
        text = (
            t(lead)
            + "\n"
            + meeting_details(
                i18n, member, meeting, with_link=offset in ("0", "1h") or bool(meeting.link)
            )
        )
        if previous_start is not None and clocks_changed(zone, previous_start, meeting.starts_at):
            text += "\n" + t(
                "Note: your clocks have changed since the last meeting, so its local hour may differ from last month's."
            )
        markup = None if offset == "0" else rsvp_markup(i18n, locale, meeting)
        return text, markup
    raise ValueError(f"unknown outbox kind {kind!r}")


ATTENDANCE_ASK_WITHIN = timedelta(days=7)

# A meeting that costs a member this much (the benchmark's scale: 4 = 07-08 or 22-23
# local) or touches their night earns them the note that later months favour them.
HARD_HOUR_COST = 4.0


def is_stale(kind: str, meeting: Meeting, now: datetime) -> bool:
    """Too late to be useful: reminders after the start, anything after the end."""
    end = meeting.starts_at + timedelta(minutes=meeting.duration_min)
    if kind == ATTENDANCE:
        return now >= end + ATTENDANCE_ASK_WITHIN  # it is asked after the end, but not weeks after
    if now >= end:
        return True
    offset = offset_of_kind(kind)
    return offset is not None and offset != "0" and now >= meeting.starts_at
