"""What the club's own channel or group reads about meetings and events: announcements,
moves, cancellations and programme changes, in the club's default language.

A chat has no time zone, so a post gives the time in the club's zones (CLUB_ZONES); it
never carries the meeting link or anything about a member. Its button opens the bot
(a t.me deep link), which answers each reader in their own language and time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, OutboxMessage
from delivery import club_chat
from delivery.messages import Button, Outgoing
from delivery.rendering import ChatRenderer, Stale
from ground.i18n import Translator
from scheduling.geo import localtime, places
from scheduling.meetings import agenda
from scheduling.meetings.event_text import event_name, is_event, place_line, programme_outline
from scheduling.meetings.lifecycle import ANNOUNCE, CANCELLED, RESCHEDULED

# The bot answers /start e<id> with that meeting in the reader's own language.
START_PREFIX = "e"
KINDS = (ANNOUNCE, RESCHEDULED, CANCELLED, agenda.PROGRAMME)


def start_parameter(meeting_id: int) -> str:
    return f"{START_PREFIX}{meeting_id}"


def meeting_of_start(parameter: str | None) -> int | None:
    """The meeting a /start parameter names, or None."""
    text = (parameter or "").strip()
    if text.startswith(START_PREFIX) and text[1:].isdigit() and len(text) < 12:
        return int(text[1:])
    return None


NEXT_PARAMETER = "next"  # /start next: what /next shows


def open_bot_button(i18n: Translator, locale: str, meeting_id: int | None) -> Button:
    label = i18n.gettext("🤖 Open in the bot: your time and language", locale=locale)
    parameter = NEXT_PARAMETER if meeting_id is None else start_parameter(meeting_id)
    return Button(label, club_chat.OPEN_BOT_ACTION, (parameter,))


def when_lines(meeting: Meeting, zones: Sequence[str], locale: str, i18n: Translator) -> list[str]:
    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    return [
        t("{when} ({city})").format(
            when=localtime.format_meeting_time(meeting.starts_at, zone, locale),
            city=places.zone_label(zone, locale),
        )
        for zone in zones
    ]


def club_post(
    i18n: Translator,
    locale: str,
    zones: Sequence[str],
    kind: str,
    meeting: Meeting,
    payload: str | None = None,
) -> Outgoing:
    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    event = is_event(meeting)
    name = event_name(t, meeting) if event else t("The meeting of the club «Beloved Harbin»")
    lines: list[str]
    if kind == ANNOUNCE:
        heading = (
            t("The club announces a special event: {event}").format(event=name)
            if event
            else t("The club «Beloved Harbin» meets!")
        )
        lines = [heading, *when_lines(meeting, zones, locale, i18n)]
        if place := place_line(t, meeting):
            lines.append(place)
        if meeting.theme:
            lines.append(t("Theme: {theme}").format(theme=meeting.theme))
        lines += programme_outline(i18n, locale, meeting)
    elif kind == RESCHEDULED:
        old = datetime.fromisoformat(json.loads(payload or "{}")["old_start"])
        first = zones[0] if zones else "UTC"
        lines = [
            t("{event} has moved.").format(event=name),
            t("It was to be on {when}. Now:").format(
                when=localtime.format_meeting_time(old, first, locale)
            ),
            *when_lines(meeting, zones, locale, i18n),
        ]
    elif kind == CANCELLED:
        when = localtime.format_meeting_time(
            meeting.starts_at, zones[0] if zones else "UTC", locale
        )
        lines = [t("{event} on {when} is cancelled.").format(event=name, when=when)]
        if meeting.cancel_reason:
            lines.append(t("Reason: {reason}").format(reason=meeting.cancel_reason))
        return Outgoing("\n".join(lines))
    elif kind == agenda.PROGRAMME:
        lines = [
            t("The programme of {meeting} has changed.").format(meeting=name),
            *when_lines(meeting, zones, locale, i18n),
        ]
        lines += programme_outline(i18n, locale, meeting) or [
            t("There are no talks in it for now.")
        ]
    else:
        raise ValueError(f"unknown club post {kind!r}")
    lines.append(t("Open the bot for your own time, the link and reminders."))
    return Outgoing("\n".join(lines), ((open_bot_button(i18n, locale, meeting.id),),))


def club_brief(
    i18n: Translator, locale: str, zones: Sequence[str], meetings: Sequence[Meeting]
) -> Outgoing:
    """/next in a group: the coming meetings, briefly, with nothing about any member."""

    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    if not meetings:
        lines = [t("No meeting is set yet.")]
    else:
        lines = [t("Coming meetings of the club:")]
        for meeting in meetings:
            name = event_name(t, meeting) if is_event(meeting) else t("Club meeting")
            if meeting.theme:
                name = t("{event}: {theme}").format(event=name, theme=meeting.theme)
            lines.append("• " + name)
            lines += ["  " + line for line in when_lines(meeting, zones, locale, i18n)]
    lines.append(t("Open the bot for your own time, the link and reminders."))
    return Outgoing("\n".join(lines), ((open_bot_button(i18n, locale, None),),))


def club_renderer(i18n: Translator, locale: str, zones: Sequence[str]) -> ChatRenderer:
    """What the delivery tick calls for a meeting's post in the club chat."""

    async def render_row(session: AsyncSession, row: OutboxMessage, now: datetime) -> Outgoing:
        meeting = await session.get(Meeting, row.meeting_id) if row.meeting_id else None
        if meeting is None:
            raise Stale("meeting deleted")
        kind = row.kind.removeprefix(club_chat.PREFIX)
        end = meeting.starts_at + timedelta(minutes=meeting.duration_min)
        if now >= end:
            raise Stale("the meeting is over")
        if kind != CANCELLED and (meeting.status != "scheduled" or now >= meeting.starts_at):
            raise Stale("the meeting has begun or was cancelled")
        return club_post(i18n, locale, zones, kind, meeting, row.payload)

    return render_row
