"""Words about one meeting or special event for one reader: its name, where it is held,
what its fixed hour means for them, and its programme in their own clock."""

from __future__ import annotations

from collections.abc import Callable

from db.models import Meeting, Member
from ground.i18n import N_, Translator
from scheduling.geo import localtime
from scheduling.meetings import agenda
from scheduling.meetings.lifecycle import MONTHLY
from scheduling.meetings.local_meaning import local_picture

KIND_LABELS = {
    "conference": N_("Conference day"),
    "memorial": N_("Memorial service"),
    "excursion": N_("Excursion"),
    "event": N_("Special event"),
}
# Shown beside a talk given in another language than the reader's.
LANGUAGE_NOTES = {"ru": N_("in Russian"), "en": N_("in English"), "zh": N_("in Chinese")}

Translate = Callable[[str], str]


def is_event(meeting: Meeting) -> bool:
    return meeting.kind != MONTHLY


def event_name(t: Translate, meeting: Meeting) -> str:
    """«Day of memory» (Memorial service), or the kind alone when it has no title."""
    label = t(KIND_LABELS.get(meeting.kind, KIND_LABELS["event"]))
    if meeting.title:
        return t("«{title}» ({kind})").format(title=meeting.title, kind=label)
    return label


def place_line(t: Translate, meeting: Meeting) -> str | None:
    return t("Place: {place}").format(place=meeting.place) if meeting.place else None


def local_line(t: Translate, member: Member, meeting: Meeting) -> str:
    """What a fixed hour means for this member: night, outside their hours, or fine."""
    zone = member.zone or "UTC"
    picture = local_picture(
        meeting.starts_at, meeting.duration_min, zone, member.hours_start, member.hours_end
    )
    span = f"{picture.local_start:%H:%M}–{picture.local_end:%H:%M}"
    if picture.night:
        return t("For you this falls in the night: {span} your time.").format(span=span)
    if picture.outside_hours:
        return t("For you this is outside your hours ({hours}): {span} your time.").format(
            hours=localtime.format_hours(member.hours_start, member.hours_end), span=span
        )
    return t("For you this is within your hours: {span} your time.").format(span=span)


def duration_text(i18n: Translator, locale: str, minutes: int) -> str:
    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.gettext(singular, plural, n, locale=locale)

    return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


def programme_lines(i18n: Translator, locale: str, zone: str, meeting: Meeting) -> list[str]:
    """The programme in the reader's clock: each talk's start, title, speaker, length."""

    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    items = agenda.timed(meeting)
    if not items:
        return []
    lines = [t("Programme:")]
    for slot in items:
        item = slot.item
        duration = duration_text(i18n, locale, item.minutes)
        note = LANGUAGE_NOTES.get(item.language or "")
        if note and item.language != locale:
            duration = t("{duration}, {language}").format(duration=duration, language=t(note))
        start = f"{localtime.to_local(slot.starts_at, zone):%H:%M}"
        if item.speaker:
            line = t("{time} «{title}» — {speaker} ({duration})").format(
                time=start, title=item.title, speaker=item.speaker, duration=duration
            )
        else:
            line = t("{time} «{title}» ({duration})").format(
                time=start, title=item.title, duration=duration
            )
        lines.append(line)
    return lines


def programme_outline(i18n: Translator, locale: str, meeting: Meeting) -> list[str]:
    """The programme without clock times, for readers in many zones (the club chat)."""

    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    items = agenda.items_of(meeting)
    if not items:
        return []
    lines = [t("Programme:")]
    for number, item in enumerate(items, 1):
        duration = duration_text(i18n, locale, item.minutes)
        if item.speaker:
            line = t("{number}. «{title}» — {speaker} ({duration})").format(
                number=number, title=item.title, speaker=item.speaker, duration=duration
            )
        else:
            line = t("{number}. «{title}» ({duration})").format(
                number=number, title=item.title, duration=duration
            )
        lines.append(line)
    return lines
