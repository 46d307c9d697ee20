"""The delivery engine: outbox rows through aiogram's HTTP session to the fake Bot API.

Members are written straight into the database; a FixedClock decides what is due and the
Pacer runs on virtual time (its sleep only records and advances), so nothing waits for real.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.seed import seed_members
from bot.app import build_delivery
from bot.runner import RunningApp, open_app
from db.models import Meeting, Member, OutboxMessage
from delivery.broadcasts import AlreadyQueued, broadcast_progress, queue_broadcast
from delivery.pacer import Pacer
from delivery.sending import Delivery, DeliveryReport
from ground.clock import FixedClock
from ground.settings import load_settings
from sandbox.fake_api import FakeBotAPI, RecordedRequest
from scheduling.meetings.lifecycle import (
    cancel_meeting,
    create_meeting,
    record_rsvp,
    reschedule_meeting,
)
from tests.club import DEFAULT_NOW, TOKEN

NOW = DEFAULT_NOW  # Saturday 9 January 2027, 11:32 UTC
# Tuesday 19 January 2027, 11:00 UTC: Sydney 22:00 (UTC+11), Moscow 14:00, New York 06:00.
START = datetime(2027, 1, 19, 11, 0, tzinfo=UTC)
SYDNEY, MOSCOW, NEW_YORK, BERLIN = 501, 502, 503, 504
ZONES = {
    SYDNEY: ("Australia/Sydney", "en"),
    MOSCOW: ("Europe/Moscow", "ru"),
    NEW_YORK: ("America/New_York", "en"),
    BERLIN: ("Europe/Berlin", "en"),
}


class VirtualTime:
    """Monotonic time for the Pacer that only moves when the Pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingPacer(Pacer):
    def __init__(self, time_source: VirtualTime) -> None:
        super().__init__(1000.0, 1000.0, monotonic=time_source.monotonic, sleep=time_source.sleep)
        self.pauses: list[float] = []

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        await super().pause(seconds)


@dataclass
class Rig:
    fake: FakeBotAPI
    app: RunningApp
    clock: FixedClock
    delivery: Delivery
    pacer: RecordingPacer
    time: VirtualTime
    member_ids: dict[int, int] = field(default_factory=dict)  # by Telegram id

    def session(self):  # type: ignore[no-untyped-def]
        return self.app.ctx.session_factory()

    async def add_members(
        self, telegram_ids: Iterable[int], *, reminders: str = "7d,1d,1h,0"
    ) -> list[int]:
        """Registered members, zone and language from ZONES; their member ids."""
        telegram_ids = list(telegram_ids)
        async with self.session() as session:
            added = await seed_members(
                session,
                telegram_ids,
                name="Member {telegram_id}",
                at=NOW - timedelta(days=30),
                reminders=reminders,
                vary=_zone_and_locale,
            )
            await session.commit()
        self.member_ids.update(zip(telegram_ids, added, strict=True))
        return added

    async def tick_at(self, at: datetime) -> DeliveryReport:
        self.clock.at = at
        return await self.delivery.tick()

    def sends(self, chat_id: int) -> list[RecordedRequest]:
        return [r for r in self.fake.requests_for("sendMessage") if int(r.chat_id or 0) == chat_id]

    def accepted(self, chat_id: int) -> int:
        return int(self.fake.stats["accepted"].get(chat_id, 0))

    def texts(self, chat_id: int) -> list[str]:
        return [m.text or "" for m in self.fake.chat_messages(chat_id)]

    async def meeting(self, meeting_id: int) -> Meeting:
        async with self.session() as session:
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            return meeting

    async def rows(self, telegram_id: int) -> list[OutboxMessage]:
        member_id = self.member_ids[telegram_id]
        async with self.session() as session:
            query = select(OutboxMessage).where(OutboxMessage.member_id == member_id)
            return list(await session.scalars(query.order_by(OutboxMessage.id)))


def _zone_and_locale(_i: int, telegram_id: int) -> dict[str, str]:
    zone, locale = ZONES.get(telegram_id, ("Asia/Harbin", "zh"))
    return {"zone": zone, "locale": locale}


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        media_dir=str(tmp_path / "media"),
        default_locale="ru",
    )
    clock = FixedClock(NOW)
    async with (
        FakeBotAPI(auto_create_chats=True) as fake,
        open_app(settings, token=TOKEN, api_base=fake.base_url, clock=clock) as app,
    ):
        time_source = VirtualTime()
        pacer = RecordingPacer(time_source)
        delivery = build_delivery(app.bot, app.ctx, pacer)
        yield Rig(fake, app, clock, delivery, pacer, time_source)


async def _meeting(rig: Rig, starts_at: datetime = START) -> Meeting:
    async with rig.session() as session:
        result = await create_meeting(session, starts_at, now=rig.clock.now())
        await session.commit()
        return result


# --------------------------------------------------------------------------- broadcasts


async def test_broadcast_reaches_each_of_50_members_exactly_once(rig: Rig) -> None:
    ids = range(1001, 1051)
    await rig.add_members(ids)
    async with rig.session() as session:
        assert await queue_broadcast(session, "b50", "Club news", now=NOW) == 50
        await session.commit()

    report = await rig.delivery.drain()

    assert report.sent == 50 and report.failed == report.retried == report.blocked == 0
    assert [len(rig.sends(chat)) for chat in ids] == [1] * 50
    assert [rig.accepted(chat) for chat in ids] == [1] * 50
    assert rig.texts(1001) == ["Club news"]
    async with rig.session() as session:
        progress = await broadcast_progress(session, "b50")
    assert (progress.total, progress.delivered, progress.pending) == (50, 50, 0)
    assert await rig.delivery.drain() == DeliveryReport()  # nothing left to send


async def test_the_same_broadcast_is_queued_once_even_if_confirmed_twice(rig: Rig) -> None:
    await rig.add_members(range(1101, 1106))
    async with rig.session() as session:
        count = await queue_broadcast(session, "twice", "Once", now=NOW, report_to=(1101, "en"))
        await session.commit()
        assert count == 5
    async with rig.session() as session:  # a second press, maybe on another instance
        with pytest.raises(AlreadyQueued):
            await queue_broadcast(session, "twice", "Once", now=NOW, report_to=(1101, "en"))
            await session.commit()
    async with rig.session() as session:
        assert (await broadcast_progress(session, "twice")).total == 5
    # Five members once each, and the organiser (1101) also gets the final count once.
    assert (await rig.delivery.drain()).sent == 6
    assert [len(rig.sends(chat)) for chat in range(1101, 1106)] == [2, 1, 1, 1, 1]


async def test_429_pauses_the_pacer_and_the_message_still_goes_once(rig: Rig) -> None:
    await rig.add_members([2001, 2002, 2003])
    rig.fake.inject("sendMessage", chat_id=2002, status=429, retry_after=3)
    async with rig.session() as session:
        await queue_broadcast(session, "b429", "Hello", now=NOW)
        await session.commit()

    report = await rig.delivery.tick()

    assert report.sent == 3 and report.rate_limited == 1 and report.retried == 0
    assert rig.pacer.pauses == [3.0]
    # The retry waited out retry_after (on virtual time; the chat's own 1 ms gap inside it).
    assert sum(rig.time.sleeps) == pytest.approx(3.0)
    assert [r.status for r in rig.sends(2002)] == [429, 200]
    assert [rig.accepted(chat) for chat in (2001, 2002, 2003)] == [1, 1, 1]
    async with rig.session() as session:
        assert (await broadcast_progress(session, "b429")).delivered == 3


async def test_500_is_retried_after_backoff_and_delivered_once(rig: Rig) -> None:
    await rig.add_members([3001, 3002])
    rig.fake.inject("sendMessage", chat_id=3002, status=500)
    async with rig.session() as session:
        await queue_broadcast(session, "b500", "Hello", now=NOW)
        await session.commit()

    first = await rig.delivery.tick()

    assert (first.sent, first.retried) == (1, 1)
    [row] = await rig.rows(3002)
    assert row.sent_at is None and not row.dropped and row.attempts == 1
    assert row.due_at == NOW + timedelta(seconds=5)
    assert "Internal Server Error" in (row.last_error or "")
    assert (await rig.delivery.tick()).sent == 0  # not due yet at the same instant

    rig.clock.advance(seconds=6)
    second = await rig.delivery.tick()

    assert second.sent == 1
    assert [r.status for r in rig.sends(3002)] == [500, 200]
    assert rig.accepted(3002) == 1 and rig.accepted(3001) == 1
    [row] = await rig.rows(3002)
    assert row.sent_at == NOW + timedelta(seconds=6) and row.last_error is None
    assert (await rig.delivery.drain()).sent == 0


async def test_403_marks_member_unreachable_and_nothing_more_is_sent_to_them(rig: Rig) -> None:
    blocked, other = 4001, 4002
    await rig.add_members([blocked, other])
    async with rig.session() as session:
        await queue_broadcast(session, "b403", "Hello", now=NOW)
        await session.commit()
    meeting = await _meeting(rig)  # announce + 4 reminders each, queued before the block
    rig.fake.block(blocked)

    report = await rig.tick_at(NOW)

    assert report.blocked == 1 and report.sent == 2  # the other member: broadcast + announce
    assert [r.status for r in rig.sends(blocked)] == [403]
    async with rig.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == blocked))
        assert member is not None and member.reachable is False
        assert (await broadcast_progress(session, "b403")).blocked == 1
    assert all(row.dropped and row.sent_at is None for row in await rig.rows(blocked))

    # Moving the meeting re-arms unsent reminders (blocked member's included) and a new
    # meeting is set; still nothing may be sent to the member who blocked the bot.
    async with rig.session() as session:
        loaded = await session.get(Meeting, meeting.id)
        assert loaded is not None
        await reschedule_meeting(session, loaded, START + timedelta(hours=2), now=NOW)
        await session.commit()
    await _meeting(rig, START + timedelta(days=60))  # only its announcement falls due here
    new_start = START + timedelta(hours=2)
    for at in (NOW, new_start - timedelta(days=7), new_start - timedelta(days=1)):
        await rig.tick_at(at)
    await rig.tick_at(new_start - timedelta(hours=1))
    await rig.tick_at(new_start)

    assert [r.status for r in rig.sends(blocked)] == [403]
    assert rig.accepted(blocked) == 0
    assert rig.accepted(other) == 1 + 1 + 1 + 1 + 4  # broadcast, 2 announces, notice, reminders


# --------------------------------------------------------------------------- reminders


async def test_reminders_go_out_at_their_times_in_the_members_language_and_hour(
    rig: Rig,
) -> None:
    await rig.add_members([SYDNEY, MOSCOW])
    await _meeting(rig)

    await rig.tick_at(NOW)
    assert [len(rig.texts(c)) for c in (SYDNEY, MOSCOW)] == [1, 1]  # the announcement only
    assert rig.texts(SYDNEY)[0].startswith("A new club meeting is set!")
    assert "Tuesday 19 January, 22:00" in rig.texts(SYDNEY)[0]

    await rig.tick_at(START - timedelta(days=7))
    assert rig.texts(SYDNEY)[-1].startswith("The club meets in a week.")

    await rig.tick_at(START - timedelta(days=1))
    sydney, moscow = rig.texts(SYDNEY)[-1], rig.texts(MOSCOW)[-1]
    assert sydney.startswith("The club meets tomorrow.")
    assert "Tuesday 19 January, 22:00" in sydney and "UTC+11" in sydney
    assert moscow.startswith("Встреча клуба — завтра.")
    assert "Когда: вторник, 19 января, 14:00 (Ваше время, UTC+3)" in moscow
    assert [len(rig.texts(c)) for c in (SYDNEY, MOSCOW)] == [3, 3]

    # The bot is down when the 1h reminder falls due; it comes up 20 minutes before the
    # start: the reminder is late but still useful, so it goes out.
    report = await rig.tick_at(START - timedelta(minutes=20))
    assert (report.sent, report.stale) == (2, 0)
    assert rig.texts(SYDNEY)[-1].startswith("The club meets in an hour.")
    assert rig.texts(MOSCOW)[-1].startswith("Встреча клуба — через час.")

    await rig.tick_at(START)
    assert rig.texts(SYDNEY)[-1].startswith("The club meeting is starting now!")
    assert [rig.accepted(c) for c in (SYDNEY, MOSCOW)] == [5, 5]
    assert await rig.delivery.drain() == DeliveryReport()


async def test_reminder_whose_meeting_has_started_is_dropped_as_stale(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.add_members([SYDNEY])
    await _meeting(rig)
    await rig.tick_at(NOW)
    caplog.set_level(logging.INFO, logger="delivery.sending")

    # Down from before the 7d reminder until 10 minutes into the meeting.
    report = await rig.tick_at(START + timedelta(minutes=10))

    assert (report.stale, report.sent) == (3, 1)  # 7d, 1d, 1h dropped; "starting now" sent
    assert rig.texts(SYDNEY)[-1].startswith("The club meeting is starting now!")
    stale_lines = [r.getMessage() for r in caplog.records if "dropping stale" in r.getMessage()]
    assert len(stale_lines) == 3 and all("has begun or ended" in line for line in stale_lines)
    dropped = [row for row in await rig.rows(SYDNEY) if row.dropped]
    assert sorted(row.kind for row in dropped) == ["remind:1d", "remind:1h", "remind:7d"]
    assert all((row.last_error or "").startswith("stale:") for row in dropped)

    # After the meeting has ended only the attendance question goes out (an hour after the
    # end); no reminder is left to send.
    assert (await rig.tick_at(START + timedelta(hours=3))).sent == 1
    assert rig.texts(SYDNEY)[-1].startswith("Were you at the club meeting on")


async def test_rsvp_no_stops_further_reminders_for_that_member_only(rig: Rig) -> None:
    await rig.add_members([SYDNEY, NEW_YORK])
    meeting = await _meeting(rig)
    await rig.tick_at(NOW)
    async with rig.session() as session:
        loaded = await session.get(Meeting, meeting.id)
        member = await session.get(Member, rig.member_ids[SYDNEY])
        assert loaded is not None and member is not None
        await record_rsvp(session, loaded, member, "no", now=NOW)
        await session.commit()

    for at in (START - timedelta(days=7), START - timedelta(days=1), START - timedelta(hours=1)):
        await rig.tick_at(at)
    await rig.tick_at(START)

    assert rig.accepted(SYDNEY) == 1  # the announcement, before the answer
    assert rig.accepted(NEW_YORK) == 5
    assert all(row.dropped for row in await rig.rows(SYDNEY) if row.kind.startswith("remind:"))


async def test_cancel_drops_unsent_reminders_and_sends_a_cancellation(rig: Rig) -> None:
    await rig.add_members([SYDNEY, NEW_YORK])
    meeting = await _meeting(rig)
    await rig.tick_at(NOW)
    await rig.tick_at(START - timedelta(days=7))
    async with rig.session() as session:
        loaded = await session.get(Meeting, meeting.id)
        assert loaded is not None
        await cancel_meeting(session, loaded, "The host is ill", now=rig.clock.now())
        await session.commit()

    report = await rig.delivery.tick()

    assert report.sent == 2
    assert rig.texts(SYDNEY)[-1] == (
        "The club meeting on Tuesday 19 January, 22:00 is cancelled.\nReason: The host is ill"
    )
    assert "Tuesday 19 January, 06:00" in rig.texts(NEW_YORK)[-1]
    assert not [r for r in await rig.rows(SYDNEY) if r.kind.startswith("remind:") and not r.sent_at]
    for at in (START - timedelta(days=1), START - timedelta(hours=1), START):
        assert (await rig.tick_at(at)).sent == 0
    assert [rig.accepted(c) for c in (SYDNEY, NEW_YORK)] == [3, 3]  # announce, 7d, cancelled


async def test_reschedule_moves_reminders_and_notifies_old_and_new_local_time(rig: Rig) -> None:
    await rig.add_members([SYDNEY, NEW_YORK], reminders="1d,1h")
    meeting = await _meeting(rig)
    await rig.tick_at(NOW)
    new_start = START + timedelta(days=2, hours=1)  # Thursday 21 January, 12:00 UTC
    async with rig.session() as session:
        loaded = await session.get(Meeting, meeting.id)
        assert loaded is not None
        old = await reschedule_meeting(session, loaded, new_start, now=NOW)
        await session.commit()
    assert old == START
    reminders = [r for r in await rig.rows(SYDNEY) if r.kind.startswith("remind:")]
    assert {r.kind: r.due_at for r in reminders} == {
        "remind:1d": new_start - timedelta(days=1),
        "remind:1h": new_start - timedelta(hours=1),
    }

    await rig.delivery.tick()

    assert rig.texts(SYDNEY)[-1].startswith(
        "The club meeting has moved.\nWas: Tuesday 19 January, 22:00\n"
        "Now: Thursday 21 January, 23:00\n"
    )
    assert (
        "Was: Tuesday 19 January, 06:00\nNow: Thursday 21 January, 07:00"
        in (rig.texts(NEW_YORK)[-1])
    )
    # The new time is said once, not again in a "When:" line below it.
    assert rig.texts(SYDNEY)[-1].count("21 January") == 1
    assert (await rig.tick_at(START - timedelta(days=1))).sent == 0  # the old reminder time
    await rig.tick_at(new_start - timedelta(days=1))
    assert rig.texts(SYDNEY)[-1].startswith("The club meets tomorrow.")
    assert "Thursday 21 January, 23:00" in rig.texts(SYDNEY)[-1]
    assert [rig.accepted(c) for c in (SYDNEY, NEW_YORK)] == [3, 3]


async def test_dst_change_note_and_local_hours_on_both_sides(rig: Rig) -> None:
    await rig.add_members([BERLIN, NEW_YORK, SYDNEY], reminders="1d")
    # 17:00 UTC each time. Europe moves its clocks on 28 March 2027, the USA on 14 March,
    # Sydney back on 4 April.
    february = datetime(2027, 2, 20, 17, 0, tzinfo=UTC)
    march = datetime(2027, 3, 31, 17, 0, tzinfo=UTC)
    april = datetime(2027, 4, 14, 17, 0, tzinfo=UTC)
    for starts_at in (february, march, april):
        await _meeting(rig, starts_at)
    await rig.tick_at(NOW)  # three announcements each
    note = "Note: your clocks have changed since the last meeting"

    texts: dict[str, dict[int, str]] = {}
    for name, starts_at in (("feb", february), ("mar", march), ("apr", april)):
        report = await rig.tick_at(starts_at - timedelta(days=1))
        assert report.sent == 3
        texts[name] = {c: rig.texts(c)[-1] for c in (BERLIN, NEW_YORK, SYDNEY)}

    assert "Saturday 20 February, 18:00 (your time, UTC+1)" in texts["feb"][BERLIN]
    assert "Wednesday 31 March, 19:00 (your time, UTC+2)" in texts["mar"][BERLIN]
    assert note in texts["mar"][BERLIN] and note not in texts["feb"][BERLIN]
    assert note not in texts["apr"][BERLIN]

    assert "Saturday 20 February, 12:00 (your time, UTC−5)" in texts["feb"][NEW_YORK]
    assert "Wednesday 31 March, 13:00 (your time, UTC−4)" in texts["mar"][NEW_YORK]
    assert note in texts["mar"][NEW_YORK] and note not in texts["apr"][NEW_YORK]

    assert "Sunday 21 February, 04:00 (your time, UTC+11)" in texts["feb"][SYDNEY]
    assert "Thursday 1 April, 04:00 (your time, UTC+11)" in texts["mar"][SYDNEY]
    assert "Thursday 15 April, 03:00 (your time, UTC+10)" in texts["apr"][SYDNEY]
    assert note not in texts["mar"][SYDNEY] and note in texts["apr"][SYDNEY]
    assert [rig.accepted(c) for c in (BERLIN, NEW_YORK, SYDNEY)] == [6, 6, 6]


# --------------------------------------------------------------------------- regressions
# Defects found while writing these tests, fixed since: each test guards its fix.


async def test_an_unexpected_api_error_does_not_hold_back_the_other_rows(rig: Rig) -> None:
    # Was: TelegramNotFound escaped _send, aborted the tick and left the rest leased.
    await rig.add_members([6001, 6002, 6003])
    rig.fake.inject("sendMessage", chat_id=6002, status=404)
    async with rig.session() as session:
        await queue_broadcast(session, "b404", "Hello", now=NOW)
        await session.commit()

    report = await rig.delivery.tick()

    assert report.sent == 2 and rig.accepted(6003) == 1
    [row] = await rig.rows(6002)
    assert row.attempts == 1 and row.last_error


async def test_rsvp_no_still_holds_after_the_meeting_is_moved(rig: Rig) -> None:
    # Was: reschedule_meeting set dropped = due_at < now, re-arming declined reminders.
    await rig.add_members([SYDNEY], reminders="1d")
    meeting = await _meeting(rig)
    await rig.tick_at(NOW)
    new_start = START + timedelta(hours=5)
    async with rig.session() as session:
        loaded = await session.get(Meeting, meeting.id)
        member = await session.get(Member, rig.member_ids[SYDNEY])
        assert loaded is not None and member is not None
        await record_rsvp(session, loaded, member, "no", now=NOW)
        await session.commit()
        await reschedule_meeting(session, loaded, new_start, now=NOW)
        await session.commit()
    await rig.tick_at(NOW)  # the "meeting has moved" notice does go out

    report = await rig.tick_at(new_start - timedelta(days=1))

    assert report.sent == 0, rig.texts(SYDNEY)[-1]


async def test_drain_continues_past_a_batch_of_rows_for_unreachable_members(rig: Rig) -> None:
    # Was: drain stopped after a tick whose rows were all dropped without a counter.
    gone, present = await rig.add_members([7001, 7002])
    async with rig.session() as session:
        gone_member = await session.get(Member, gone)
        assert gone_member is not None
        gone_member.reachable = False
        session.add_all(
            OutboxMessage(member_id=gone, kind="broadcast:old", due_at=NOW, payload="{}")
            for _ in range(200)
        )
        session.add(
            OutboxMessage(
                member_id=present,
                kind="broadcast:new",
                due_at=NOW + timedelta(seconds=1),
                payload='{"text": "Hello"}',
            )
        )
        await session.commit()
    rig.clock.advance(seconds=2)

    await rig.delivery.drain()

    assert rig.accepted(7002) == 1


async def test_several_senders_deliver_once_each_and_keep_each_members_order(rig: Rig) -> None:
    rig.delivery.in_flight = 4
    ids = range(8001, 8021)
    await rig.add_members(ids)
    async with rig.session() as session:
        await queue_broadcast(session, "first", "First news", now=NOW)
        await session.commit()
        await queue_broadcast(session, "second", "Second news", now=NOW)
        await session.commit()

    report = await rig.delivery.drain()

    assert report.sent == 40
    assert all(rig.texts(chat) == ["First news", "Second news"] for chat in ids)
