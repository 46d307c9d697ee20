"""Programmes in the domains, against a real database: slots and their limits, one notice
per burst of edits, a speaker's own reminder, the programme in the calendar feed (three
parsers), the proceedings in the exported book, the club chat's held posts."""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archive.export import build_export
from db.engine import create_engine, create_session_factory
from db.media import KIND_DOCUMENT, MediaStore
from db.migrate import upgrade_to_head
from db.models import Meeting, Member, OutboxMessage, Talk
from delivery import club_chat, notes
from ground.settings import SettingsError, load_settings
from handlers.i18n import build_i18n
from handlers.memoir_review import export_labels
from handlers.middlewares import is_group_next
from handlers.programme_publish import publish
from programme import queries, slots, talks
from programme.talks import TalkError
from scheduling.feeds.calendar import render_calendar
from scheduling.meetings import agenda
from scheduling.meetings.lifecycle import (
    SPEAKER,
    cancel_meeting,
    create_meeting,
    reschedule_meeting,
)
from scheduling.meetings.local_meaning import local_picture
from tests.ics_parsers import parse_all

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)
START = datetime(2027, 1, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def member(
    session: AsyncSession, n: int, name: str, zone: str = "Australia/Sydney"
) -> Member:
    row = Member(
        telegram_id=1000 + n, locale="en", name=name, zone=zone, registered_at=NOW, consent_at=NOW
    )
    session.add(row)
    await session.flush()
    return row


async def proposal(session: AsyncSession, speaker: Member, title: str, minutes: int = 20) -> Talk:
    talk = await talks.create_draft(session, speaker, now=NOW)
    await talks.set_fields(
        session, talk, now=NOW, title=title, abstract="A few lines.", language="en", minutes=minutes
    )
    await talks.submit(session, talk, now=NOW)
    return talk


async def programme_notices(session: AsyncSession, meeting: Meeting) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.meeting_id == meeting.id,
            OutboxMessage.kind == agenda.PROGRAMME,
            OutboxMessage.member_id.is_not(None),
        )
    )
    return list(rows)


async def test_slots_hold_one_talk_each_within_the_meetings_length(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        ann, bob = await member(session, 1, "Ann"), await member(session, 2, "Bob")
        meeting = await create_meeting(session, START, now=NOW)  # 90 minutes
        first = await proposal(session, ann, "Bridges", 30)
        second = await proposal(session, bob, "Churches", 30)
        third = await proposal(session, bob, "Schools", 45)

        await slots.accept(session, first, meeting_id=meeting.id, position=1, minutes=30, now=NOW)
        with pytest.raises(TalkError) as taken:
            await slots.accept(
                session, second, meeting_id=meeting.id, position=1, minutes=30, now=NOW
            )
        assert taken.value.reason == "slot_taken" and taken.value.details["title"] == "Bridges"
        for minutes in (0, 2, 181, 600):
            with pytest.raises(TalkError) as bad:
                await slots.accept(
                    session, second, meeting_id=meeting.id, position=2, minutes=minutes, now=NOW
                )
            assert bad.value.reason == "minutes"
        await slots.accept(session, second, meeting_id=meeting.id, position=3, minutes=30, now=NOW)
        with pytest.raises(TalkError) as long:
            await slots.accept(
                session, third, meeting_id=meeting.id, position=2, minutes=45, now=NOW
            )
        assert long.value.details == {"total": 105, "length": 90}

        await slots.move(session, second, -1, now=NOW)
        items = await slots.published_items(session, meeting.id)
        assert [(i.title, i.speaker) for i in items] == [("Churches", "Bob"), ("Bridges", "Ann")]
        with pytest.raises(TalkError, match="no_neighbour"):
            await slots.move(session, second, -1, now=NOW)

        await cancel_meeting(session, meeting, "", now=NOW)
        with pytest.raises(TalkError) as cancelled:
            await slots.accept(
                session, third, meeting_id=meeting.id, position=2, minutes=20, now=NOW
            )
        assert cancelled.value.reason == "cancelled"
        with pytest.raises(TalkError, match="cancelled"):
            await slots.set_minutes(session, first, 25, now=NOW)


async def test_parse_minutes_reads_three_languages_and_refuses_the_absurd() -> None:
    assert [talks.parse_minutes(t) for t in ("20", "20 min", "20 минут", "25分钟", " 45 ")] == [
        20,
        20,
        20,
        25,
        45,
    ]
    for text, reason in (("0", "minutes"), ("600", "minutes"), ("twenty", "minutes_format")):
        with pytest.raises(TalkError) as error:
            talks.parse_minutes(text)
        assert error.value.reason == reason
    with pytest.raises(TalkError, match="file_too_big"):
        talks.check_material_size(20 * 1024 * 1024 + 1)
    talks.check_material_size(20 * 1024 * 1024)


async def test_a_burst_of_edits_is_one_notice_never_held_past_an_hour(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        ann = await member(session, 1, "Ann")
        await member(session, 2, "Bob")
        meeting = await create_meeting(session, START, now=NOW)
        await session.execute(select(OutboxMessage))  # announcements queued...
        for row in await session.scalars(select(OutboxMessage)):
            row.sent_at = NOW  # ...and sent
        talk = await proposal(session, ann, "Bridges")
        await slots.accept(session, talk, meeting_id=meeting.id, position=1, minutes=20, now=NOW)
        await publish(session, [meeting.id], now=NOW)
        first = await programme_notices(session, meeting)
        assert len(first) == 2 and {r.due_at for r in first} == {NOW + agenda.QUIET}
        sequence = meeting.sequence

        # The same programme again: nothing to tell, nothing for calendars.
        assert not await agenda.set_programme(
            session, meeting, await slots.published_items(session, meeting.id), now=NOW
        )
        assert meeting.sequence == sequence

        # An edit every nine minutes: each pushes the notice back, but not past an hour.
        moment = NOW
        for minutes in (21, 22, 23, 24, 25, 26):  # the last at 54 minutes
            moment += timedelta(minutes=9)
            await slots.set_minutes(session, talk, minutes, now=moment)
            await publish(session, [meeting.id], now=moment)
        rows = await programme_notices(session, meeting)
        assert len(rows) == 2
        assert {r.due_at for r in rows} == {NOW + agenda.MAX_HOLD}
        assert meeting.sequence == sequence + 6


async def test_a_speaker_has_their_own_reminder_that_follows_the_meeting(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        ann = await member(session, 1, "Ann")
        meeting = await create_meeting(session, START, now=NOW)
        talk = await proposal(session, ann, "Bridges")
        await slots.accept(session, talk, meeting_id=meeting.id, position=1, minutes=20, now=NOW)
        await publish(session, [meeting.id], now=NOW)

        def reminders() -> object:
            return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == SPEAKER))

        (row,) = list(await reminders())  # type: ignore[call-overload]
        assert row.member_id == ann.id and row.due_at == START - timedelta(days=1)
        await reschedule_meeting(session, meeting, START + timedelta(days=2), now=NOW)
        (row,) = list(await reminders())  # type: ignore[call-overload]
        assert row.due_at == START + timedelta(days=1)
        await slots.take_out(session, talk, now=NOW)
        await publish(session, [meeting.id], now=NOW)
        assert list(await reminders()) == []  # type: ignore[call-overload]


@dataclass
class FakeMeeting:
    id: int = 7
    uid: str = "m7@harbin-club"
    starts_at: datetime = START
    duration_min: int = 120
    theme: str | None = None
    link: str | None = "https://meet.example.org/j/7"
    status: str = "scheduled"
    cancel_reason: str | None = None
    sequence: int = 3
    created_at: datetime = NOW - timedelta(days=3)
    updated_at: datetime = NOW
    kind: str = "memorial"
    title: str | None = "Day of memory; «Харбин», 哈尔滨"
    place: str | None = "Uspensky cemetery, Harbin"
    programme: str | None = None


def with_programme(**kw: object) -> FakeMeeting:
    items = [
        agenda.ProgrammeItem("Prayer", 15, "Father Nikolai", "ru"),
        agenda.ProgrammeItem("Memories; of, the \\ city", 20, None, "en"),
    ]
    return replace(FakeMeeting(link=None), programme=agenda.encode(items), **kw)  # type: ignore[arg-type]


def test_the_feed_carries_title_place_and_programme_in_three_parsers() -> None:
    english = lambda m: m  # noqa: E731
    private = parse_all(render_calendar([with_programme()], english, "private"))[0]
    assert private["summary"] == "«Beloved Harbin»: Day of memory; «Харбин», 哈尔滨"
    assert private["description"] == (
        "Place: Uspensky cemetery, Harbin\n"
        "Programme:\n"
        "1. Prayer — Father Nikolai (15 min)\n"
        "2. Memories; of, the \\ city (20 min)"
    )
    assert private["sequence"] == 3
    public = parse_all(render_calendar([with_programme()], english, "public"))[0]
    assert "Uspensky" not in (public["description"] or "")
    assert "Programme:" in (public["description"] or "")
    body = render_calendar([with_programme()], english, "private")
    assert b"LOCATION:Uspensky cemetery\\, Harbin\r\n" in body


def test_the_feed_programme_in_chinese_and_russian() -> None:
    i18n = build_i18n("ru")
    for locale, line in (
        ("zh", "1. Prayer——Father Nikolai（15分钟）"),
        ("ru", "1. Prayer — Father Nikolai (15 мин)"),
    ):
        event = parse_all(
            render_calendar(
                [with_programme()], lambda m, loc=locale: i18n.gettext(m, locale=loc), "private"
            )
        )[0]
        assert line in event["description"], event["description"]


def test_what_a_fixed_hour_means_locally() -> None:
    start = datetime(2027, 1, 23, 7, 0, tzinfo=UTC)
    angeles = local_picture(start, 120, "America/Los_Angeles", 9 * 60, 21 * 60)
    assert angeles.night and angeles.outside_hours
    assert (angeles.local_start.hour, angeles.local_end.hour) == (23, 1)
    sydney = local_picture(start, 120, "Australia/Sydney", 9 * 60, 21 * 60)
    assert not sydney.night and not sydney.outside_hours
    # Someone who said the small hours suit them is not "at night" then.
    owl = local_picture(start, 120, "America/Los_Angeles", 20 * 60, 3 * 60)
    assert not owl.night and not owl.outside_hours


async def test_proceedings_in_the_exported_book(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = MediaStore(tmp_path / "media")
    async with sessions() as session:
        ann = await member(session, 1, "Ann <b>")
        meeting = await create_meeting(session, START, now=NOW, theme="Streets & bridges")
        talk = await talks.create_draft(session, ann, now=NOW)
        await talks.set_fields(
            session,
            talk,
            now=NOW,
            title="<script>alert(1)</script> Bridges",
            abstract="First paragraph.\n\nSecond paragraph.",
            language="ru",
            minutes=30,
        )
        blob = store.put_bytes(
            b"%PDF-1.4\n%%EOF\n", kind=KIND_DOCUMENT, mime_type="application/pdf"
        )
        await talks.add_material(session, talk, blob, original_name="slides.pdf")
        await talks.submit(session, talk, now=NOW)
        await slots.accept(session, talk, meeting_id=meeting.id, position=1, minutes=30, now=NOW)
        meeting.summary = "We walked the bridges."
        meeting.recording_link = "javascript:alert(1)"
        await create_meeting(session, START + timedelta(days=30), now=NOW)  # not yet held
        await session.commit()

    later = START + timedelta(days=1)
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):  # as inside an update from the organiser
        labels = export_labels(i18n)
    result = await build_export(
        sessions,
        store,
        tmp_path / "book.zip",
        labels,
        proceedings=lambda session: queries.proceedings(session, now=later),
    )
    assert result.chapters == 1
    with zipfile.ZipFile(tmp_path / "book.zip") as zf:
        names = set(zf.namelist())
        assert {"proceedings/index.html", f"proceedings/{meeting.id}.html"} <= names
        chapter = zf.read(f"proceedings/{meeting.id}.html").decode()
        cover = zf.read("index.html").decode()
        record = json.loads(zf.read("proceedings.json"))
    assert "<script>" not in chapter and "&lt;script&gt;alert(1)&lt;/script&gt; Bridges" in chapter
    assert "Ann &lt;b&gt; · 30 минут" in chapter
    assert "javascript:" not in chapter  # a link that is not http(s) is left out
    assert "Труды встреч клуба" in cover and "proceedings/index.html" in cover
    pdf = [m for m in record[0]["talks"][0]["materials"]]
    assert pdf[0]["file"].endswith(".pdf") and pdf[0]["file"] in names
    assert "16 января 2027" in chapter


async def test_programme_for_a_meetings_web_page(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        ann = await member(session, 1, "Ann")
        meeting = await create_meeting(session, START, now=NOW)
        for position, title in ((2, "Second"), (1, "First")):
            talk = await proposal(session, ann, title)
            await slots.accept(
                session, talk, meeting_id=meeting.id, position=position, minutes=20, now=NOW
            )
        view = await queries.programme_for_meeting(session, meeting.id)
        assert await queries.programme_for_meeting(session, 999) is None
    assert view is not None
    assert [(s.number, s.title, s.starts_at) for s in view.slots] == [
        (1, "First", START),
        (2, "Second", START + timedelta(minutes=20)),
    ]
    assert view.slots[1].ends_at == START + timedelta(minutes=40)


async def test_a_refused_club_post_is_held_and_organisers_told_once(sessions) -> None:  # type: ignore[no-untyped-def]
    club = club_chat.ClubChat(-100777, frozenset({900, 901}), "ru")
    i18n = build_i18n("ru")
    async with sessions() as session:
        session.add(Member(telegram_id=901, locale="zh", registered_at=NOW, name="Li"))
        first = club_chat.queue_post(session, "announce", due_at=NOW)
        second = club_chat.queue_post(session, "announce", due_at=NOW)
        await session.flush()
        told = await club_chat.hold(
            session,
            first.id,
            "Forbidden: bot is not a member of the channel chat",
            now=NOW,
            club=club,
            i18n=i18n,
        )
        assert told == 2
        again = await club_chat.hold(
            session,
            second.id,
            "Forbidden: bot is not a member of the channel chat",
            now=NOW + timedelta(minutes=1),
            club=club,
            i18n=i18n,
        )
        assert again == 0  # told a minute ago
        notes_sent = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind.like(notes.KIND_PREFIX + "%"))
            )
        )
        by_chat = {row.chat_id: notes.read(row.payload).text for row in notes_sent}
        assert "меня нет среди его участников" in by_chat[900]
        assert "没有任何丢失：1 条帖子正在等待。" in by_chat[901]
        assert await club_chat.held_count(session) == 2
        assert await club_chat.release_held(session, NOW) == 2
        assert await club_chat.held_count(session) == 0


def test_only_next_passes_in_a_group() -> None:
    from aiogram.types import Update

    def update(text: str, chat_type: str = "supergroup") -> Update:
        return Update.model_validate(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": -100, "type": chat_type},
                    "from": {"id": 5, "is_bot": False, "first_name": "A"},
                    "text": text,
                },
            }
        )

    assert is_group_next(update("/next"))
    assert is_group_next(update("/next@fake_club_bot please"))
    assert not is_group_next(update("/nextweek"))
    assert not is_group_next(update("/help"))
    assert not is_group_next(update("/next", "private"))


@pytest.mark.parametrize(
    ("overrides", "name"),
    [({"club_chat_id": "@club"}, "CLUB_CHAT_ID"), ({"club_zones": "Mars/Base"}, "CLUB_ZONES")],
)
def test_club_settings_are_checked(overrides: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(_env_file=None, **overrides)
    assert load_settings(_env_file=None, club_chat_id=" ").club_chat_id is None
    assert load_settings(_env_file=None, club_zones="Asia/Harbin, Europe/Moscow").club_zones == (
        "Asia/Harbin",
        "Europe/Moscow",
    )
