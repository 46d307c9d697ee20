"""Organisers plan the month in the chat: three fair candidates, confirm one, see the burden."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from db.models import BurdenEntry, Meeting, Member
from tests.club import ADMIN_ID, Club

PLACES = [
    ("Sydney", "Australia/Sydney", "AU"),
    ("Berlin", "Europe/Berlin", "DE"),
    ("New York", "America/New_York", "US"),
    ("Harbin", "Asia/Shanghai", "CN"),
    ("Moscow", "Europe/Moscow", "RU"),
    ("Los Angeles", "America/Los_Angeles", "US"),
]


async def _add_members(club: Club) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    async with club.app.ctx.session_factory() as session:
        for index, (city, zone, country) in enumerate(PLACES):
            session.add(
                Member(
                    telegram_id=5000 + index,
                    locale="en",
                    name=city,
                    city=city,
                    zone=zone,
                    country=country,
                    registered_at=now,
                    consent_at=now,
                )
            )
        await session.commit()


async def test_plan_confirm_and_fairness(club: Club) -> None:
    await _add_members(club)
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    reply = await club.say(admin, "/plan 2027-02")
    text = reply.text or ""
    assert "Plan for 2027-02" in text
    assert "Option 1:" in text and "Option 2:" in text and "Option 3:" in text
    assert "Why option 1:" in text and "Sydney" in text
    assert reply.button_labels == ["Confirm option 1", "Confirm option 2", "Confirm option 3"]

    reply = await club.press(admin, "Confirm option 1")
    assert "Confirmed" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None and meeting.source == "planner"
        assert (meeting.starts_at.year, meeting.starts_at.month) == (2027, 2)
        assert meeting.starts_at.weekday() in (5, 6)  # the default rules: weekends (UTC)
        entries = await session.scalar(select(func.count()).select_from(BurdenEntry))
    assert entries == len(PLACES) + 1  # everyone registered, the organiser included

    reply = await club.say(admin, "/fairness")
    assert "Burden over the last 12 meetings" in (reply.text or "")
    assert "Los Angeles" in (reply.text or "")


async def test_plan_refuses_bad_month_and_members_cannot_plan(club: Club) -> None:
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin)
    reply = await club.say(admin, "/plan 2027-13")
    assert "/plan 2027-03" in (reply.text or "")
    member = club.user(601, language_code="en")
    await club.register(member)
    for command in ("/plan", "/fairness"):
        reply = await club.say(member, command)
        assert reply.text == "I don't know that command. /help lists what I can do."


async def test_monthly_job_sends_the_plan_to_organisers_only(club: Club) -> None:
    from scheduling.planning.monthly import send_monthly_plan

    ctx = club.app.ctx

    async def run_job() -> int:
        return await send_monthly_plan(ctx.session_factory, ctx.i18n, ctx.clock, ctx.settings)

    await _add_members(club)
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin)
    member = club.user(602, language_code="en")
    await club.register(member)
    assert await run_job() == 1
    assert (await club.app.delivery.drain()).sent == 1  # it goes through the outbox
    message = admin.messages()[-1]
    assert "Time to plan next month's meeting" in (message.text or "")
    assert "Plan for 2027-02" in (message.text or "")  # the clock says 9 January 2027
    assert message.button_labels[0] == "Confirm option 1"
    assert "Plan for" not in (member.messages()[-1].text or "")
    async with club.app.ctx.session_factory() as session:
        assert await session.scalar(select(Meeting)) is None  # nothing announced yet
    # A second run (another instance, or a restart) does not send it again.
    assert await run_job() == 0
    await club.press(admin, "Confirm option 1")
    assert await run_job() == 0  # already set


async def test_members_with_a_hard_hour_are_told_the_next_months_favour_them(club: Club) -> None:
    await _add_members(club)
    users = {
        city: club.user(5000 + index, language_code="en")
        for index, (city, _z, _c) in enumerate(PLACES)
    }
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    await club.say(admin, "/plan 2027-02")
    await club.press(admin, "Confirm option 1")
    await club.app.delivery.drain()
    async with club.app.ctx.session_factory() as session:
        entries = {
            member_id: (cost, night)
            for member_id, cost, night in await session.execute(
                select(BurdenEntry.member_id, BurdenEntry.cost, BurdenEntry.night)
            )
        }
        ids = {m.telegram_id: m.id for m in await session.scalars(select(Member))}
    told = hard = 0
    for index, (city, _zone, _country) in enumerate(PLACES):
        cost, night = entries[ids[5000 + index]]
        text = users[city].messages()[-1].text or ""
        assert "A new club meeting is set!" in text
        is_hard = night or cost >= 4
        assert ("We know this hour is hard for you" in text) == is_hard, (city, cost, night)
        told += "We know this hour is hard" in text
        hard += is_hard
    assert told == hard and hard >= 1  # with members from Los Angeles to Sydney, someone always is


async def test_members_mark_days_they_cannot_make_and_the_planner_avoids_them(club: Club) -> None:
    user = club.user(610, language_code="en")
    await club.register(user)
    reply = await club.say(user, "/unavailable 2027-02-13 2027-02-14")
    assert "Saturday 13 February, Sunday 14 February" in (reply.text or "")
    reply = await club.say(user, "/unavailable")
    assert "Saturday 13 February" in (reply.text or "")
    reply = await club.say(user, "/unavailable 2027-02-14")
    assert "No longer marked: Sunday 14 February" in (reply.text or "")
    reply = await club.say(user, "/unavailable 2027-02-30")
    assert "/unavailable 2027-02-13 2027-03-06" in (reply.text or "")
    reply = await club.say(user, "/unavailable 2026-12-01")
    assert "already passed" in (reply.text or "")

    from scheduling.burden.store import planner_roster

    async with club.app.ctx.session_factory() as session:
        roster = await planner_roster(session)
    (me,) = [m for m in roster if m.zone == "Australia/Sydney"]
    from datetime import date

    assert me.unavailable_dates == frozenset({date(2027, 2, 13)})


async def test_re_running_the_planner_moves_the_months_meeting(club: Club) -> None:
    await _add_members(club)
    admin = club.user(ADMIN_ID, language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    await club.say(admin, "/plan 2027-02")
    await club.press(admin, "Confirm option 1")
    async with club.app.ctx.session_factory() as session:
        first = await session.scalar(select(Meeting))
    assert first is not None
    reply = await club.say(admin, "/plan 2027-02")
    reply = await club.press(admin, "Confirm option 2")
    assert "moved" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        meetings = list(await session.scalars(select(Meeting)))
    assert len(meetings) == 1 and meetings[0].starts_at != first.starts_at
    assert meetings[0].sequence == 1  # calendars see the move
    # A plan for another month does not touch February's meeting.
    await club.say(admin, "/plan 2027-03")
    admin.press("Confirm option 1")
    answer = await admin.expect_callback_answer()
    assert "already set" in (answer.text or "")
