"""A club that meets with talks (issue 18), end to end through the fake Bot API: proposals,
review, the programme wherever the meeting appears, special events, the club's chat,
summaries, and the bad input around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Meeting, OutboxMessage, Rsvp, Talk, TalkMaterial
from sandbox.fake_api import FakeUser, SentMessage
from scheduling.feeds.calendar import render_calendar
from scheduling.meetings.agenda import QUIET
from tests.club import ADMIN_ID, Club, running_club
from tests.ics_parsers import parse_all


@pytest.fixture
async def club(tmp_path: Path) -> AsyncIterator[Club]:
    """The running club; afterwards, every pressed button was answered exactly once."""
    async with running_club(tmp_path) as running:
        yield running
        twice = [
            r.params for r in running.fake.requests_for("answerCallbackQuery") if r.status != 200
        ]
        assert not twice, f"a button was answered twice: {twice}"
        assert not running.fake.unanswered_callbacks(), "a button was never answered"


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.messages()]


async def organiser(club: Club) -> FakeUser:
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    return admin


async def propose(
    club: Club, user: FakeUser, title: str, *, minutes: str = "20 minutes", pdf: bool = False
) -> SentMessage:
    """The /talk dialogue by buttons, as a member walks it."""
    await club.say(user, "/talk")
    question = await user.expect_reply()
    assert "title" in (question.text or "")
    await club.say(user, title)
    await club.say(user, f"About {title}: what the city was like, and the people in it.")
    await club.press(user, "English")
    await club.press(user, minutes)
    if pdf:
        user.send_document(PDF, file_name="slides.pdf", mime_type="application/pdf")
        saved = await user.expect_reply()
        assert "Saved" in (saved.text or ""), saved.text
    card = await club.press(user, "✅ Done")
    assert title in (card.text or "")
    return await club.press(user, "📨 Send to the organisers")


async def review_talks(club: Club, admin: FakeUser) -> SentMessage:
    """Open the talk queue; returns the decision message (after the card and its files)."""
    reply = await club.press(admin, "🎤 Review talk proposals")
    while "What shall we do with this one?" not in (reply.text or ""):
        reply = await admin.expect_reply()
    return reply


async def accept(club: Club, admin: FakeUser, *, slot: str, minutes: str = "20 minutes") -> str:
    """From /review to an accepted talk: the meeting, the slot, the minutes."""
    await club.say(admin, "/review")
    await admin.expect_reply()  # the talk queue's line
    await review_talks(club, admin)
    await club.press(admin, "✅ Accept into a programme")
    await club.press_starting(admin, "Saturday 16 January")
    await club.press_starting(admin, slot)
    reply = await club.press(admin, minutes)
    return reply.text or ""


async def test_a_proposal_accepted_into_a_programme_reaches_announcement_reminder_and_feed(
    club: Club,
) -> None:
    admin = await organiser(club)
    speaker = club.user(401, first_name="Sue", language_code="en")
    await club.register(speaker)  # Sydney
    listener = club.user(402, first_name="Ли", language_code="zh")
    await club.register(listener, lang="中文", country="中国", city_prefix="上海")

    thanks = await propose(club, speaker, "Streets of old Harbin", pdf=True)
    assert "is with the organisers" in (thanks.text or "")
    await club.app.delivery.drain()  # the organisers hear of it
    assert texts(admin)[-1] == (
        "New talk proposal: «Streets of old Harbin» from Sue. Waiting for review: 1. "
        "/review opens the queue."
    )
    await club.say(admin, "/meeting 2027-01-16 10:00")  # 09:00 UTC
    done = await accept(club, admin, slot="1 · free")
    assert "Accepted: «Streets of old Harbin», slot 1" in done

    await club.app.delivery.drain()
    announcement = speaker.messages()[-2].text or ""
    assert "A new club meeting is set!" in announcement
    assert "Programme:\n20:00 «Streets of old Harbin» — Sue (20 minutes)" in announcement
    told = speaker.messages()[-1].text or ""
    assert "Good news: your talk «Streets of old Harbin» is in the programme" in told
    assert "You speak 1 of 1, from 20:00 your time, for 20 minutes." in told
    chinese = listener.messages()[-1].text or ""
    assert "17:00《Streets of old Harbin》——Sue（20分钟，英语）" in chinese, chinese
    mine = await club.say(speaker, "/mytalks")
    assert "Saturday 16 January, 20:00: talk 1 of 1, from 20:00 your time." in (mine.text or "")
    # The announcement carried the programme: no separate notice of the same change.
    club.clock.advance(minutes=15)
    assert (await club.app.delivery.drain()).sent == 0

    await club.say(admin, "/link https://zoom.us/j/111")
    club.clock.at = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # a day before
    await club.app.delivery.drain()
    mine = texts(speaker)
    reminder = next(t for t in mine if t.startswith("The club meets tomorrow."))
    assert "20:00 «Streets of old Harbin» — Sue (20 minutes)" in reminder
    own = next(t for t in mine if t.startswith("Your talk is coming up"))
    assert "«Streets of old Harbin»: talk 1 of 1, from 20:00 your time, 20 minutes." in own
    assert "Link: https://zoom.us/j/111" in own
    assert not any(t.startswith("Your talk is coming up") for t in texts(listener))

    async with club.app.ctx.session_factory() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        (event,) = parse_all(render_calendar([meeting], lambda m: m, "private"))
    assert "Programme:\n1. Streets of old Harbin — Sue (20 min)" in event["description"]
    assert event["sequence"] >= 1


async def test_a_reorder_reaches_members_once(club: Club) -> None:
    admin = await organiser(club)
    first = club.user(411, first_name="Ann", language_code="en")
    second = club.user(412, first_name="Bob", language_code="en")
    for user in (first, second):
        await club.register(user)
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()  # the announcement, before any programme
    await propose(club, first, "The Sungari in winter")
    await propose(club, second, "Kitaiskaya street")
    await accept(club, admin, slot="1 · free")
    await accept(club, admin, slot="2 · free")
    club.clock.advance(minutes=11)
    await club.app.delivery.drain()
    notice = next(t for t in reversed(texts(first)) if "programme of" in t)
    assert notice.index("The Sungari in winter") < notice.index("Kitaiskaya street")

    await club.say(admin, "/programme")
    await club.press(admin, "⬇ 1")  # swap the two
    club.clock.advance(minutes=5)  # within the quiet period: the notice waits
    assert (await club.app.delivery.drain()).sent == 0
    await club.press(admin, "⏱ 2")
    await club.say(admin, "25")  # and a new length, a minute later
    club.clock.advance(minutes=5)
    assert (await club.app.delivery.drain()).sent == 0  # pushed back by the second edit
    before = len(texts(second))
    club.clock.advance(minutes=6)
    await club.app.delivery.drain()
    new = texts(second)[before:]
    assert len(new) == 1, new
    assert new[0].index("Kitaiskaya street") < new[0].index("The Sungari in winter")
    assert "20:20 «The Sungari in winter» — Ann (25 minutes)" in new[0]


async def test_a_special_event_next_to_the_monthly_meeting_with_separate_rsvps(
    club: Club,
) -> None:
    admin = await organiser(club)
    sydney = club.user(421, first_name="Sue", language_code="en")
    await club.register(sydney)
    angeles = club.user(422, first_name="Al", language_code="en")
    await club.register(angeles, country="United States", city_prefix="Los Angeles")
    await club.say(admin, "/meeting 2027-01-16 10:00")

    await club.say(admin, "/event")
    await club.press(admin, "Memorial service")
    await club.say(admin, "Day of memory")
    await club.say(admin, "2027-01-23 08:00")  # Berlin: 07:00 UTC, 23:00 in Los Angeles
    await club.press(admin, "2 hours")
    preview = await club.say(admin, "Uspensky cemetery, Harbin")
    # Berlin 08:00 is outside the organiser's hours; 23:00-01:00 is Los Angeles' night.
    assert "at night for 1, outside their hours for 2, of 3" in (preview.text or "")
    created = await club.press(admin, "✅ Create and announce")
    assert "The event is set" in (created.text or "")
    # /meeting still speaks of the monthly meeting only.
    again = await club.say(admin, "/meeting 2027-01-30 10:00")
    assert "already set for Saturday 16 January" in (again.text or "")

    await club.app.delivery.drain()
    event_news = texts(angeles)[-1]
    assert "The club announces a special event: «Day of memory» (Memorial service)" in event_news
    assert "For you this falls in the night: 23:00–01:00 your time." in event_news
    assert "Place: Uspensky cemetery, Harbin" in event_news

    sydney.send_text("/next")
    shown = await sydney.expect_replies(2)
    assert (shown[0].text or "").startswith("The next club meeting:")
    assert (shown[1].text or "").startswith("Special event: «Day of memory» (Memorial service)")
    assert "For you this is within your hours: 18:00–20:00 your time." in (shown[1].text or "")
    sydney.press_data(shown[0].message_id, shown[0].inline_keyboard[0][0]["callback_data"])
    await sydney.expect_callback_answer()
    sydney.press_data(shown[1].message_id, shown[1].inline_keyboard[0][2]["callback_data"])
    await sydney.expect_callback_answer()
    sue = await club.member(421)
    assert sue is not None
    async with club.app.ctx.session_factory() as session:
        meetings = {m.kind: m.id for m in await session.scalars(select(Meeting))}
        answers = {
            r.meeting_id: r.answer
            for r in await session.scalars(select(Rsvp).where(Rsvp.member_id == sue.id))
        }
        # Reminders per event: "can't" stops the event's, not the meeting's.
        waiting = {
            row.meeting_id
            for row in await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.member_id == sue.id,
                    OutboxMessage.kind.like("remind:%"),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.dropped.is_(False),
                )
            )
        }
    assert answers == {meetings["monthly"]: "yes", meetings["memorial"]: "no"}
    assert waiting == {meetings["monthly"]}

    # Cancelled from /events: everyone hears of the event, the monthly meeting stays.
    await club.say(admin, "/events")
    await club.press_starting(admin, "Saturday 23 January")
    await club.press(admin, "❌ Cancel it")
    await club.press(admin, "Yes, cancel it")
    await club.app.delivery.drain()
    assert texts(angeles)[-1].startswith("«Day of memory» (Memorial service) on Friday 22 January")
    sydney.send_text("/next")
    (left,) = [await sydney.expect_reply()]
    assert (left.text or "").startswith("The next club meeting:")
    await sydney.expect_no_reply()


async def test_bad_input_is_refused_clearly(club: Club) -> None:
    admin = await organiser(club)
    speaker = club.user(431, first_name="Sue", language_code="en")
    await club.register(speaker)
    await club.say(admin, "/meeting 2027-01-16 10:00")

    await club.say(speaker, "/talk")
    await speaker.expect_reply()
    await club.say(speaker, "Old maps")
    await club.say(speaker, "Maps of the city from 1920 to 1950.")
    await club.press(speaker, "English")
    for typed in ("0", "600", "twenty"):
        reply = await club.say(speaker, typed)
        expected = "from 3 to 180 minutes" if typed != "twenty" else "as a number"
        assert expected in (reply.text or ""), (typed, reply.text)
    await club.say(speaker, "30 min")
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 1)
    speaker.send_document(big, file_name="scans.pdf", mime_type="application/pdf")
    refused = await speaker.expect_reply()
    assert "This file is 21 MB; Telegram lets me take files up to 20 MB" in (refused.text or "")
    await club.press(speaker, "✅ Done")
    await club.press(speaker, "📨 Send to the organisers")
    async with club.app.ctx.session_factory() as session:
        talk = await session.scalar(select(Talk))
        assert talk is not None and talk.minutes == 30
        assert await session.scalar(select(TalkMaterial.id)) is None

    other = club.user(432, first_name="Ann", language_code="en")
    await club.register(other)
    await propose(club, other, "Harbin railway")
    await accept(club, admin, slot="1 · free", minutes="30 minutes")
    # The second proposal, into the slot the first one holds.
    await club.say(admin, "/review")
    await admin.expect_reply()
    await review_talks(club, admin)
    await club.press(admin, "✅ Accept into a programme")
    await club.press_starting(admin, "Saturday 16 January")
    admin.press("1 · Old maps")
    alert = await admin.expect_callback_answer()
    assert "Slot 1 already holds «Old maps»" in (alert.text or "")

    # A cancelled meeting has no programme.
    await club.say(admin, "/cancelmeeting")
    await club.press(admin, "Yes, cancel it")
    admin.press("2 · free")
    await admin.expect_callback_answer()
    await admin.expect_reply()  # the minutes question
    reply = await club.press(admin, "20 minutes")
    assert "a cancelled meeting has no programme" in (reply.text or "")
    # The cancelled meeting's talk went back to the queue, and its speaker was told.
    async with club.app.ctx.session_factory() as session:
        statuses = {t.title: (t.status, t.meeting_id) for t in await session.scalars(select(Talk))}
    assert statuses == {"Old maps": ("proposed", None), "Harbin railway": ("proposed", None)}
    await club.app.delivery.drain()
    assert "Your talk «Old maps» is no longer in the programme" in "\n".join(texts(speaker))


CHANNEL = -1001234567890


async def test_posts_in_the_club_channel_never_carry_links_or_members(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with running_club(tmp_path, club_chat_id=str(CHANNEL)) as club:
        club.fake.add_chat(CHANNEL, "channel", title="Любимый Харбин")
        admin = await organiser(club)
        member = club.user(441, first_name="Sue", language_code="en")
        await club.register(member)
        await club.say(admin, "/meeting 2027-01-16 10:00")
        await club.say(admin, "/link https://zoom.us/j/secret-room")
        await club.app.delivery.drain()
        post = club.fake.last_message(CHANNEL)
        assert post is not None
        text = post.text or ""
        assert text.startswith("Клуб «Любимый Харбин» встречается!"), text
        assert "суббота, 16 января, 12:00 (Москва)" in text
        assert "secret-room" not in text and "Sue" not in text
        (button,) = post.inline_keyboard[0]
        assert button["url"] == f"https://t.me/{club.fake.bot_username}?start=e1"
        # The button opens the bot in the reader's own language, with the link for members.
        reply = await club.say(member, "/start e1")
        assert (reply.text or "").startswith("The next club meeting:")
        assert "secret-room" in (reply.text or "")

        # Two programme changes in the quiet period: one post, written as it goes out.
        await propose(club, member, "Old photographs")
        await propose(club, member, "Letters home")
        await accept(club, admin, slot="1 · free")
        await accept(club, admin, slot="2 · free")
        club.clock.advance(minutes=11)
        await club.app.delivery.drain()
        posts = [m.text or "" for m in club.fake.chat_messages(CHANNEL)]
        assert len(posts) == 2, posts
        assert posts[1].startswith("Изменилась программа: Встреча клуба «Любимый Харбин».")
        assert (
            "1. «Old photographs» — Sue (20 минут)\n2. «Letters home» — Sue (20 минут)" in posts[1]
        )
        assert "secret-room" not in posts[1]


async def test_a_chat_that_refuses_posts_loses_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with running_club(tmp_path, club_chat_id="-100999") as club:
        admin = await organiser(club)
        member = club.user(442, first_name="Ann", language_code="en")
        await club.register(member)
        await club.say(admin, "/meeting 2027-01-16 10:00")
        report = await club.app.delivery.drain()
        assert report.sent == 3  # both announcements and the organisers' note; no post
        assert "A new club meeting is set!" in texts(member)[-1]
        note = admin.messages()[-1]
        assert "I could not post to the club's chat: there is no chat with that id." in (
            note.text or ""
        )
        assert "Nothing is lost: 1 post is waiting." in (note.text or "")
        club.fake.add_chat(-100999, "supergroup", title="Club")
        reply = await club.press(admin, "📣 Post again")
        assert "Posting again: 1 post." in (reply.text or "")
        await club.app.delivery.drain()
        post = club.fake.last_message(-100999)
        assert post is not None and (post.text or "").startswith("Клуб «Любимый Харбин»")


async def test_in_a_group_the_bot_answers_next_briefly_and_nothing_else(club: Club) -> None:
    admin = await organiser(club)
    member = club.user(451, first_name="Sue", language_code="en")
    await club.register(member)
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.say(admin, "/link https://zoom.us/j/secret-room")
    group = member.in_group(-1005550001, title="Club")
    group.send_text("/next")
    brief = await group.expect_reply()
    text = brief.text or ""
    assert text.startswith("Ближайшие встречи клуба:"), text
    assert "secret-room" not in text and "Sue" not in text
    assert brief.inline_keyboard[0][0]["url"].endswith("?start=next")
    for chatter in ("/help", "/me", "/next@some_other_bot", "@fake_club_bot hello"):
        group.send_text(chatter)
        await group.expect_no_reply()


async def test_a_summary_reaches_only_those_who_came_or_said_yes(club: Club) -> None:
    admin = await organiser(club)
    said_yes = club.user(461, first_name="Yes", language_code="en")
    came = club.user(462, first_name="Came", language_code="en")
    silent = club.user(463, first_name="Quiet", language_code="en")
    declined = club.user(464, first_name="No", language_code="en")
    for user in (said_yes, came, silent, declined):
        await club.register(user)
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()
    for user, answer in ((said_yes, "✅ I will come"), (declined, "❌ I can't")):
        user.press(answer)
        await user.expect_callback_answer()
    club.clock.at = datetime(2027, 1, 16, 12, 0, tzinfo=UTC)  # after the meeting
    await club.app.delivery.drain()  # the question "were you there?"
    await club.press(came, "Yes, I was there")
    await club.press(silent, "No, I couldn't come")

    await club.say(admin, "/summary")
    await club.press_starting(admin, "Saturday 16 January")
    await club.say(admin, "ftp://example.org/recording")  # refused: not https
    await club.say(admin, "https://example.org/recording")
    preview = await club.say(admin, "We walked Kitaiskaya street in photographs.")
    assert "This goes to 2 members" in (preview.text or "")
    done = await club.press(admin, "Send")
    assert "going to 2 members" in (done.text or "")
    before = {u.id: len(texts(u)) for u in (said_yes, came, silent, declined)}
    await club.app.delivery.drain()
    for user, gets in ((said_yes, True), (came, True), (silent, False), (declined, False)):
        new = texts(user)[before[user.id] :]
        assert bool(new) == gets, (user, new)
    summary = texts(came)[-1]
    assert "We walked Kitaiskaya street in photographs." in summary
    assert "Recording: https://example.org/recording" in summary


async def test_forget_keeps_an_accepted_talk_without_the_name(club: Club) -> None:
    admin = await organiser(club)
    speaker = club.user(471, first_name="Sue", language_code="en")
    await club.register(speaker)
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()
    await propose(club, speaker, "Harbin bridges")
    await accept(club, admin, slot="1 · free")
    await propose(club, speaker, "A second idea")
    await club.say(speaker, "/forget")
    reply = await club.press(
        speaker, "Delete, but keep my published memoirs and talks without my name"
    )
    assert "Everything about you has been deleted" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        left = list(await session.scalars(select(Talk)))
        meeting = await session.scalar(select(Meeting))
    assert [(t.title, t.member_id, t.speaker_name) for t in left] == [
        ("Harbin bridges", None, None)
    ]
    assert meeting is not None and meeting.programme is not None
    assert "Sue" not in meeting.programme
    before = texts(admin)
    club.clock.advance(minutes=11)
    await club.app.delivery.drain()
    notice = texts(admin)[len(before) :]
    assert any("«Harbin bridges» (20 minutes)" in t for t in notice), notice


async def test_talk_texts_in_russian_with_plural_forms(club: Club) -> None:
    admin = await organiser(club)
    speaker = club.user(481, first_name="Вера", language_code="ru")
    await club.register(speaker, lang="Русский", country="Россия", city_prefix="Москва")
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.say(speaker, "/talk")
    await speaker.expect_reply()
    await club.say(speaker, "Старые улицы")
    await club.say(speaker, "О Китайской улице.")
    await club.press(speaker, "Русский")
    await club.say(speaker, "21")
    await club.press(speaker, "✅ Готово")
    await club.press(speaker, "📨 Отправить организаторам")
    await accept(club, admin, slot="1 · free", minutes="21 minutes")
    await club.app.delivery.drain()
    mine = "\n".join(texts(speaker))
    assert "12:00 «Старые улицы» — Вера (21 минута)" in mine, mine
    assert "суббота, 16 января, 12:00" in mine
    assert timedelta(minutes=10) == QUIET


async def test_changes_asked_reach_the_speaker_who_revises_and_a_decline_says_why(
    club: Club,
) -> None:
    admin = await organiser(club)
    speaker = club.user(491, first_name="Sue", language_code="en")
    await club.register(speaker)
    await propose(club, speaker, "Old maps", minutes="30 minutes")
    await club.say(admin, "/review")
    await admin.expect_reply()
    await review_talks(club, admin)
    await club.press(admin, "✏️ Ask for changes")
    await club.say(admin, "Please add the years the maps cover.")
    await club.app.delivery.drain()
    asked = speaker.messages()[-1]
    assert "Their note: Please add the years the maps cover." in (asked.text or "")
    revising = await club.press(speaker, "✏️ Revise the proposal")
    assert "Revising «Old maps»" in (revising.text or "")
    await club.press(speaker, "Keep: Old maps")
    await club.say(speaker, "Maps of Harbin, 1920 to 1950.")
    await club.press(speaker, "English")
    await club.press(speaker, "Keep: 30 minutes")
    await club.press(speaker, "✅ Done")
    await club.press(speaker, "📨 Send to the organisers")
    async with club.app.ctx.session_factory() as session:
        talk = await session.scalar(select(Talk))
        assert talk is not None
        assert (talk.status, talk.title, talk.abstract, talk.minutes) == (
            "proposed",
            "Old maps",
            "Maps of Harbin, 1920 to 1950.",
            30,
        )

    await club.say(admin, "/review")
    await admin.expect_reply()
    await review_talks(club, admin)
    await club.press(admin, "❌ Decline")
    done = await club.say(admin, "The programme is full this season.")
    assert "Declined" in (done.text or "")
    await club.app.delivery.drain()
    declined = speaker.messages()[-1].text or ""
    assert "could not include it this time. Their note: The programme is full this season." in (
        declined
    )
    mine = await club.say(speaker, "/mytalks")
    assert "not included this time" in (mine.text or "")
