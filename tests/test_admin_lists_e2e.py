"""/members and /stats through the real bot and the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.models import Member
from tests.club import ADMIN_ID, DEFAULT_NOW, Club


async def _organiser(club: Club) -> object:
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    return admin


async def _add_members(club: Club, count: int) -> None:
    """Members written straight into the database: the list, not registration, is tested."""
    async with club.app.ctx.session_factory() as session:
        for n in range(count):
            session.add(
                Member(
                    telegram_id=5000 + n,
                    locale="ru",
                    name=f"Zed {n:02d}",
                    country="RU",
                    zone="Asia/Vladivostok",
                    city="Владивосток",
                    registered_at=DEFAULT_NOW,
                    reachable=n != 3,
                )
            )
        await session.commit()


async def test_members_summary_and_pages(club: Club) -> None:
    admin = await _organiser(club)
    sydney = club.user(401, first_name="Sue", language_code="en")
    await club.register(sydney)
    await _add_members(club, 12)

    listing = await club.say(admin, "/members")
    text = listing.text or ""
    assert "Members: 14" in text
    assert "• Russia: 12" in text and "• Germany: 1" in text and "• Australia: 1" in text
    assert "Vladivostok (UTC+10): 12" in text and "Sydney (UTC+11): 1" in text
    assert text.startswith("Members: 14\n")
    assert "\n\nMembers, page 1 of 2:\n" in text
    assert "1. Olga · Berlin · UTC+1" in (listing.text or "")
    assert "2. Sue · Sydney · UTC+11" in (listing.text or "")
    # Stored as «Владивосток» (typed in Russian), named in the organiser's English.
    assert "6. Zed 03 · Vladivostok · UTC+10 · 🚫 unreachable" in (listing.text or "")
    assert listing.button_labels == ["Next ▶️"]

    page2 = await club.press(admin, "Next ▶️")
    assert page2.message_id == listing.message_id  # the list is edited in place
    assert "Members: 14" in (page2.text or "") and "Members, page 2 of 2:" in (page2.text or "")
    assert "11. Zed 08" in (page2.text or "") and "14. Zed 11" in (page2.text or "")
    assert page2.button_labels == ["◀️ Previous"]
    page1 = await club.press(admin, "◀️ Previous")
    assert "Members, page 1 of 2:" in (page1.text or "")


async def test_stats_counts_rsvps_and_delivered_reminders(club: Club) -> None:
    admin = await _organiser(club)
    reply = await club.say(admin, "/stats")
    assert reply.text == "No meetings yet."
    members = [club.user(410 + n, language_code="en") for n in range(3)]
    for user in members:
        await club.register(user)
    await club.say(admin, "/meeting 2027-01-16 10:00")  # 09:00 UTC
    await club.app.delivery.drain()
    members[0].press("✅ I will come")
    await members[0].expect_callback_answer()
    members[1].press("❌ I can't")
    await members[1].expect_callback_answer()

    # A day before: the 1-day reminder goes to everyone but the one who can't come.
    club.clock.at = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    report = await club.app.delivery.drain()
    assert report.sent == 3

    reply = await club.say(admin, "/stats")
    text = reply.text or ""
    assert text.startswith("Latest meetings (times in Europe/Berlin):")
    assert "Saturday, 16 January 2027, 10:00 · upcoming" in text
    assert "✅ 1 · 🤔 0 · ❌ 1 · no answer: 2 · reminders delivered: 3" in text

    club.clock.at += timedelta(days=2)  # the meeting is over: no longer "upcoming"
    reply = await club.say(admin, "/stats")
    assert "upcoming" not in (reply.text or "")


async def test_members_and_stats_refused_to_members(club: Club) -> None:
    member = club.user(431, language_code="en")
    await club.register(member)
    for command in ("/members", "/stats"):
        reply = await club.say(member, command)
        assert reply.text == "I don't know that command. /help lists what I can do."
    # A forged page button is refused too: no member list leaks.
    mark = club.fake.mark()
    member.press_data(member.messages()[-1].message_id, "mbrs:1")
    answer = await member.expect_callback_answer()
    assert answer.text == "This button is no longer active."  # answered, and no hint given
    await member.expect_no_reply(0.3)
    assert all("Members, page" not in (o.message.text or "") for o in club.fake.outputs(since=mark))
