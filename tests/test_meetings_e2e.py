"""Organisers set, move and cancel a meeting in the chat; members see it in their own time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import build_delivery
from db.models import Meeting, OutboxMessage
from delivery.pacer import Pacer
from tests.club import ADMIN_ID, Club


async def _organiser(club: Club) -> object:
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    return admin


async def test_meeting_set_by_hand_reaches_members_in_their_time(club: Club) -> None:
    admin = await _organiser(club)
    sydney = club.user(301, first_name="Sue", language_code="en")
    await club.register(sydney)
    harbin = club.user(302, first_name="Ли", language_code="zh")
    await club.register(harbin, lang="中文", country="中国", city_prefix="上海")

    reply = await club.say(admin, "/meeting 2027-01-16 10:00")  # Berlin time (organiser's zone)
    assert "16 January" in (reply.text or "") and "Europe/Berlin" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None and meeting.starts_at == datetime(2027, 1, 16, 9, 0, tzinfo=UTC)

    report = await club.app.delivery.drain()
    assert report.sent == 3  # the announcement, to each registered member
    announce = sydney.messages()[-1]
    # 09:00 UTC on Saturday is 20:00 on Saturday in Sydney.
    assert "Saturday 16 January, 20:00" in (announce.text or "")
    assert announce.button_labels == ["✅ I will come", "🤔 Maybe", "❌ I can't"]
    chinese = harbin.messages()[-1]
    assert "17:00" in (chinese.text or "") and "星期六" in (chinese.text or "")

    reply = await club.say(admin, "/link http://zoom.us/j/1")
    assert "https" in (reply.text or "")
    reply = await club.say(admin, "/link javascript:alert(1)")
    assert "https" in (reply.text or "")
    reply = await club.say(admin, "/link https://zoom.us/j/ 1")
    assert "spaces" in (reply.text or "")
    reply = await club.say(admin, "/link https://telemost.yandex.ru/j/12345")
    assert "Link saved" in (reply.text or "")
    reply = await club.say(admin, "/theme Streets of old Harbin")
    assert "Streets of old Harbin" in (reply.text or "")

    reply = await club.say(sydney, "/next")
    assert "telemost.yandex.ru" in (reply.text or "") and "Streets of old Harbin" in (
        reply.text or ""
    )
    sydney.press("❌ I can't")
    answer = await sydney.expect_callback_answer()
    assert "No more reminders" in (answer.text or "")
    async with club.app.ctx.session_factory() as session:
        reminders = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind.like("remind:%"), OutboxMessage.dropped.is_(False)
                )
            )
        )
    members_with_reminders = {row.member_id for row in reminders}
    sue = await club.member(301)
    assert sue is not None and sue.id not in members_with_reminders


async def test_reschedule_and_cancel_notify_everyone(club: Club) -> None:
    admin = await _organiser(club)
    member = club.user(311, language_code="en")
    await club.register(member)
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()

    reply = await club.say(admin, "/reschedule 2027-01-17 11:00 Asia/Shanghai")
    assert "moved" in (reply.text or "")
    await club.app.delivery.drain()
    notice = member.messages()[-1]
    assert "Was: Saturday 16 January, 20:00" in (notice.text or "")
    assert "Now: Sunday 17 January, 14:00" in (notice.text or "")

    reply = await club.say(admin, "/cancelmeeting the host is ill")
    reply = await club.press(admin, "Yes, cancel it")
    assert "cancelled" in (reply.text or "")
    await club.app.delivery.drain()
    notice = member.messages()[-1]
    assert "cancelled" in (notice.text or "") and "the host is ill" in (notice.text or "")
    # An RSVP button of the cancelled meeting answers politely and changes nothing.
    member.press("✅ I will come")
    answer = await member.expect_callback_answer()
    assert "cancelled" in (answer.text or "")


async def test_bad_meeting_times_are_refused_clearly(club: Club) -> None:
    admin = await _organiser(club)
    cases = {
        "/meeting 2027-02-30 10:00": "can't read that date",
        "/meeting 2026-12-01 10:00": "already passed",
        "/meeting 2027-03-28 02:30 Europe/Berlin": "does not exist",
        "/meeting 2027-10-31 02:30 Europe/Berlin": "happens twice",
        "/meeting 2027-03-14 02:30 America/New_York": "does not exist",
        "/meeting 2027-04-04 02:30 Australia/Sydney": "happens twice",
        "/meeting 2027-01-16 10:00 Mars/Olympus": "don't know the time zone",
        "/meeting tomorrow": "Please write it like this",
    }
    for command, expected in cases.items():
        reply = await club.say(admin, command)
        assert expected in (reply.text or ""), (command, reply.text)
    async with club.app.ctx.session_factory() as session:
        assert await session.scalar(select(Meeting)) is None


async def test_broadcast_preview_confirm_progress_and_count(club: Club) -> None:
    admin = await _organiser(club)
    for user_id in (321, 322, 323):
        await club.register(club.user(user_id, language_code="en"))
    reply = await club.say(admin, "/broadcast")
    assert "Please write the announcement" in (reply.text or "")
    reply = await club.say(admin, "/broadcast Dear friends, the archive is open!")
    assert "4 members" in (reply.text or "")
    reply = await club.press(admin, "Send")
    assert "Sending to 4 members" in (reply.text or "")
    # Part of it goes out: the organiser sees how far it got.
    first = await club.app.delivery.tick(limit=2)
    assert first.sent == 2
    assert admin.messages()[-1].text == "Broadcast: 2 of 4 sent so far."
    report = await club.app.delivery.drain()
    assert report.sent == 3  # the other two, and the organiser's final count
    # It says where it comes from, in the reader's language.
    assert club.user(321).messages()[-1].text == (
        "📢 From the club «Любимый Харбин», sent by Olga:\n\nDear friends, the archive is open!"
    )
    assert (
        admin.messages()[-1].text == "Broadcast finished: delivered 4, blocked the bot 0, failed 0."
    )
    # A second press of the same (now stale) button sends nothing more.
    admin.press_data(reply.message_id, "mtg:broadcast:" + "0" * 12)
    answer = await admin.expect_callback_answer()
    assert "no longer active" in (answer.text or "")


async def test_broadcast_final_count_comes_once_from_any_instance(club: Club) -> None:
    """The count is owed in the database: a second instance (or a restart) sends no copy."""
    admin = await _organiser(club)
    for user_id in (341, 342):
        await club.register(club.user(user_id, language_code="en"))
    await club.say(admin, "/broadcast Tea at the Modern hotel")
    reply = await club.press(admin, "Send")
    assert "Sending to 3 members" in (reply.text or "")
    other_instance = build_delivery(club.app.bot, club.app.ctx, Pacer(1000, 1000))
    assert (await club.app.delivery.drain()).sent == 4
    assert (await other_instance.drain()).sent == 0
    finals = [m for m in admin.messages() if "Broadcast finished" in (m.text or "")]
    assert [m.text for m in finals] == [
        "Broadcast finished: delivered 3, blocked the bot 0, failed 0."
    ]


async def test_a_final_count_that_cannot_be_sent_is_tried_again(club: Club) -> None:
    admin = await _organiser(club)
    await club.say(admin, "/broadcast Short note")
    await club.press(admin, "Send")
    assert (await club.app.delivery.tick()).sent == 1  # the copy; the count is now owed
    club.fake.inject("sendMessage", chat_id=admin.id, status=500, times=1)
    failed = await club.app.delivery.tick()
    assert failed.retried == 1 and failed.sent == 0
    assert not any("Broadcast finished" in (m.text or "") for m in admin.messages())
    club.clock.advance(minutes=1)  # past the backoff
    assert (await club.app.delivery.drain()).sent == 1
    assert admin.messages()[-1].text == (
        "Broadcast finished: delivered 1, blocked the bot 0, failed 0."
    )


async def test_member_cannot_run_organiser_commands(club: Club) -> None:
    member = club.user(331, language_code="en")
    await club.register(member)
    for command in (
        "/meeting 2027-01-16 10:00 UTC",
        "/link https://x.org",
        "/broadcast hi",
        "/cancelmeeting",
    ):
        reply = await club.say(member, command)
        assert reply.text == "I don't know that command. /help lists what I can do."
    async with club.app.ctx.session_factory() as session:
        assert await session.scalar(select(Meeting)) is None


async def test_member_chooses_reminders_in_settings(club: Club) -> None:
    admin = await _organiser(club)
    member = club.user(341, language_code="en")
    await club.register(member)
    await club.say(admin, "/meeting 2027-01-30 10:00")
    await club.say(member, "/settings")
    reply = await club.press(member, "Reminders")
    assert reply.button_labels[:4] == [
        "✅ a week before",
        "✅ a day before",
        "✅ an hour before",
        "✅ at the start, with the link",
    ]
    reply = await club.press(member, "✅ a week before")
    assert reply.button_labels[0] == "▫️ a week before"
    reply = await club.press(member, "✅ an hour before")
    saved = await club.member(341)
    assert saved is not None and saved.reminders == "1d,0"
    async with club.app.ctx.session_factory() as session:
        rows = {
            row.kind: row.dropped
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.member_id == saved.id)
            )
            if row.kind.startswith("remind:")
        }
    assert rows == {"remind:7d": True, "remind:1d": False, "remind:1h": True, "remind:0": False}
    await club.press(member, "▫️ a week before")
    async with club.app.ctx.session_factory() as session:
        row = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.member_id == saved.id, OutboxMessage.kind == "remind:7d"
            )
        )
    assert row is not None and not row.dropped


async def test_members_say_afterwards_whether_they_came_and_stats_count_it(club: Club) -> None:
    admin = await _organiser(club)
    came = club.user(351, language_code="en")
    await club.register(came)
    declined = club.user(352, language_code="en")
    await club.register(declined)
    await club.say(admin, "/meeting 2027-01-16 10:00")  # 09:00-10:30 UTC
    await club.app.delivery.drain()
    declined.press("❌ I can't")
    await declined.expect_callback_answer()

    club.clock.at = datetime(2027, 1, 16, 11, 31, tzinfo=UTC)  # an hour after the end
    await club.app.delivery.drain()
    question = came.messages()[-1]
    assert question.text and question.text.startswith("Were you at the club meeting on")
    assert question.button_labels == ["Yes, I was there", "No, I couldn't come"]
    assert "Were you at" not in (declined.messages()[-1].text or "")  # said they couldn't come
    reply = await club.press(came, "Yes, I was there")
    assert "Thank you" in (reply.text or "")

    reply = await club.say(admin, "/stats")
    assert "Said afterwards they were there: 1" in (reply.text or "")


async def test_an_answer_shows_in_the_message_on_its_button_and_in_next(club: Club) -> None:
    admin = await _organiser(club)
    sue = club.user(361, first_name="Sue", language_code="en")
    await club.register(sue)
    li = club.user(362, first_name="Ли", language_code="zh")
    await club.register(li, lang="中文", country="中国", city_prefix="上海")
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()
    announce = sue.messages()[-1]
    sue.press("✅ I will come")
    answer = await sue.expect_callback_answer()
    assert "See you" in (answer.text or "")
    edited = await sue.expect_reply()  # the announcement itself, edited
    assert edited.message_id == announce.message_id
    assert (edited.text or "").endswith("\n\nYour answer: ✅ I will come")
    assert "Saturday 16 January" in (edited.text or "")  # the rest is kept
    assert edited.button_labels == ["✓ ✅ I will come", "🤔 Maybe", "❌ I can't"]
    # Changing the answer replaces the line rather than adding another.
    sue.press("🤔 Maybe")
    await sue.expect_callback_answer()
    edited = await sue.expect_reply()
    assert (edited.text or "").count("Your answer:") == 1
    assert edited.button_labels == ["✅ I will come", "✓ 🤔 Maybe", "❌ I can't"]
    reply = await club.say(sue, "/next")
    assert (reply.text or "").endswith("Your answer: 🤔 Maybe")
    assert reply.button_labels[1] == "✓ 🤔 Maybe"
    # In Chinese, with Chinese punctuation.
    li.press(li.messages()[-1].button_labels[0])
    await li.expect_callback_answer()
    edited = await li.expect_reply()
    assert "您的回答：" in (edited.text or "")
