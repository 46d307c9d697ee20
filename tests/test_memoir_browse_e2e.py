"""Browsing /archive by theme, decade and author; the monthly invitation; /review tags."""

from __future__ import annotations

from sqlalchemy import select

from archive import memoirs as records
from archive import prompts
from db.models import Member, Memoir, OutboxMessage
from handlers.memoirs import ArcCb
from sandbox.fake_api import FakeUser
from tests.club import ADMIN_ID, Club


async def _seed(club: Club, anna: Member) -> None:
    """Seven approved memoirs by Anna on one theme, one by Boris with neither, one pending."""
    async with club.app.ctx.session_factory() as session:
        boris = Member(telegram_id=777, locale="ru", name="Борис")
        session.add(boris)
        await session.commit()
        anna = await session.get(Member, anna.id)  # type: ignore[assignment]
        for n in range(7):
            memoir = await records.create_draft(session, anna, "Сунгари")
            await session.commit()
            await records.add_text(session, memoir, f"Лёд и коньки, часть {n}")
            await session.commit()
            await records.set_details(session, memoir, title=f"Каток {n}", decade=1930)
            await session.commit()
            await records.submit(session, memoir)
            await session.commit()
            await records.decide(session, memoir, approve=True)
            await session.commit()
        other = await records.create_draft(session, boris)
        await session.commit()
        await records.add_text(session, other, "Школа на Пристани")
        await session.commit()
        await records.set_details(session, other, title="Школа")
        await session.commit()
        await records.submit(session, other)
        await session.commit()
        await records.decide(session, other, approve=True)
        await session.commit()
        waiting = await records.create_draft(session, anna, "Сунгари")
        await session.commit()
        await records.add_text(session, waiting, "Ещё не проверено")
        await session.commit()
        await records.submit(session, waiting)
        await session.commit()


async def _refused(user: FakeUser, data: str) -> str:
    user.press_data(user.messages()[-1].message_id, data)
    return (await user.expect_callback_answer()).text or ""


async def test_archive_browse_by_theme_decade_and_author(club: Club) -> None:
    anna = club.user(501, first_name="Anna", language_code="en")
    member = await club.register(anna)
    await _seed(club, member)

    home = await club.say(anna, "/archive")
    text = home.text or ""
    assert "Memoirs in the club's archive: 8." in text
    assert "Сунгари (7)" in text and "1930s (7)" in text and "Time unknown (1)" in text
    assert home.button_labels == [
        "By theme (2)",
        "By decade (2)",
        "By author (2)",
        "All memoirs",
    ]

    themes = await club.press(anna, "By theme (2)")
    assert themes.button_labels == ["Сунгари (7)", "Without a theme (1)", "« Back"]
    first = await club.press(anna, "Сунгари (7)")
    assert "Сунгари — memoirs: 7. Page 1 of 2." in (first.text or "")
    assert first.button_labels[0].startswith("Каток 0") and first.button_labels[-2:] == [
        "»",
        "« Back",
    ]
    second = await club.press(anna, "»")
    assert [b for b in second.button_labels if b.startswith("Каток")] == [
        "Каток 5 · Anna · 1930s",
        "Каток 6 · Anna · 1930s",
    ]
    card = await club.press(anna, "Каток 6 · Anna · 1930s")
    assert "Лёд и коньки, часть 6" in (card.text or "")

    await club.press(anna, "« Back")  # back to the themes
    await club.press(anna, "« Back")  # back home
    decades = await club.press(anna, "By decade (2)")
    assert decades.button_labels == ["1930s (7)", "Time unknown (1)", "« Back"]
    unknown = await club.press(anna, "Time unknown (1)")
    assert unknown.button_labels[0] == "Школа · Борис"
    await club.press(anna, "« Back")
    await club.press(anna, "« Back")
    authors = await club.press(anna, "By author (2)")
    assert authors.button_labels == ["Anna (7)", "Борис (1)", "« Back"]
    await club.press(anna, "« Back")
    everything = await club.press(anna, "All memoirs")
    assert "Memoirs in the club's archive: 8. Page 1 of 2." in (everything.text or "")

    # ---- stale or forged buttons get a polite answer, never an error
    async with club.app.ctx.session_factory() as session:
        pending = await session.scalar(select(Memoir.id).where(Memoir.status == "pending"))
    assert "changed" in await _refused(anna, ArcCb(action="list", facet="t", key=pending).pack())
    assert "changed" in await _refused(anna, ArcCb(action="list", facet="d", key=1935).pack())
    assert "changed" in await _refused(anna, ArcCb(action="list", facet="a", key=99999).pack())
    assert "no longer active" in await _refused(anna, ArcCb(action="facets", facet="x").pack())
    assert "no longer active" in await _refused(anna, ArcCb(action="zap").pack())
    assert "not available" in await _refused(
        anna, ArcCb(action="view", memoir_id=pending or 0).pack()
    )
    assert club.fake.unanswered_callbacks() == []


async def _prompt_rows(club: Club) -> list[OutboxMessage]:
    async with club.app.ctx.session_factory() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind.like("memoir_prompt:%"))
        return list(await session.scalars(query.order_by(OutboxMessage.id)))


async def test_theme_invites_members_who_have_not_opted_out(club: Club) -> None:
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    anna = club.user(501, first_name="Anna", language_code="en")
    await club.register(anna)
    li = club.user(503, first_name="Ли", language_code="zh")
    await club.register(li, lang="中文", country="中国", city_prefix="上海")
    bob = club.user(502, first_name="Борис", language_code="ru")
    bob_member = await club.register(bob, lang="Русский", country="Россия", city_prefix="Москва")

    reply = await club.say(bob, "/memoir_prompts off")
    assert "/memoir_prompts on" in (reply.text or "")
    await club.say(admin, "/meeting 2027-01-16 10:00")
    await club.app.delivery.drain()
    reply = await club.say(admin, "/theme Зима на Сунгари")
    assert "Зима на Сунгари" in (reply.text or "")
    kind = (await _prompt_rows(club))[-1].kind
    assert len([r for r in await _prompt_rows(club) if r.kind == kind]) == 3  # not Bob

    report = await club.app.delivery.drain()
    assert report.sent == 3
    invitation = anna.messages()[-1]
    assert "“Зима на Сунгари”" in (invitation.text or "")
    assert invitation.button_labels == ["✍️ Share a memory", "Don't invite me again"]
    assert li.messages()[-1].button_labels == ["✍️ 分享回忆", "不再邀请我"]
    assert "Зима на Сунгари" not in (bob.messages()[-1].text or "")

    # The same theme again invites nobody twice; a row slipped in for Bob is dropped unsent.
    await club.say(admin, "/theme Зима на Сунгари")
    async with club.app.ctx.session_factory() as session:
        session.add(OutboxMessage(member_id=bob_member.id, kind=kind, due_at=club.clock.now()))
        await session.commit()
    report = await club.app.delivery.drain()
    assert (report.sent, report.stale) == (0, 1)

    # Anna accepts: /memoir starts on the theme, and the organiser hears of the result.
    reply = await club.press(anna, "✍️ Share a memory")
    assert "Theme: Зима на Сунгари" in (reply.text or "") and "Done" in (reply.text or "")
    await club.say(anna, "Мы заливали каток во дворе.")
    await club.press(anna, "✅ Done")
    for _ in range(4):
        reply = await club.press(anna, "Skip")
    reply = await club.press(anna, "🔒 No, club members only")
    assert "sent to the organisers" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        memoir = await session.scalar(select(Memoir))
        assert memoir is not None and memoir.theme == "Зима на Сунгари"
    await club.app.delivery.drain()  # the notice goes through the outbox
    notice = admin.messages()[-1].text or ""
    assert "New memoir for review" in notice and "Anna" in notice

    # Li opts out from the invitation itself, then back in by command.
    reply = await club.press(li, "不再邀请我")
    assert "/memoir_prompts on" in (reply.text or "")
    li_member = await club.member(li.id)
    assert li_member is not None
    async with club.app.ctx.session_factory() as session:
        assert not await prompts.prompts_wanted(session, li_member.id)
    reply = await club.say(li, "/memoir_prompts on")
    assert "/memoir_prompts off" in (reply.text or "")
    reply = await club.say(li, "/memoir_prompts maybe")
    assert "/memoir_prompts on" in (reply.text or "")
    async with club.app.ctx.session_factory() as session:
        assert await prompts.prompts_wanted(session, li_member.id)
        # Reminders are untouched by the opt-out.
        bob_now = await session.get(Member, bob_member.id)
        assert bob_now is not None and bob_now.reminders == "7d,1d,1h,0"


async def test_review_edits_tags_and_organisers_hear_of_new_memoirs(club: Club) -> None:
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    anna = club.user(501, first_name="Anna", language_code="en")
    await club.register(anna)

    await club.say(anna, "/memoir")
    await club.say(anna, "Собор на Соборной площади.")
    await club.press(anna, "✅ Done")
    await club.say(anna, "Собор")
    for _ in range(3):
        await club.press(anna, "Skip")
    await club.press(anna, "🌐 Yes, with my name")
    await club.app.delivery.drain()  # the notice goes through the outbox
    notice = admin.messages()[-1].text or ""
    assert "New memoir for review: “Собор” from Anna. Waiting for review: 1." in notice

    await club.say(admin, "/review")
    await admin.expect_reply()  # the buttons
    reply = await club.press(admin, "🗓 Year")
    assert "1935" in (reply.text or "")
    reply = await club.say(admin, "someday")
    assert "1935" in (reply.text or "")  # asked again, still editing
    assert "Saved." in ((await club.say(admin, "1947")).text or "")
    card = await admin.expect_reply()
    assert "1947" in (card.text or "")
    await admin.expect_reply()  # buttons
    await club.press(admin, "📍 Place")
    await club.say(admin, "Соборная площадь")
    await admin.expect_replies(2)
    await club.press(admin, "👥 People")
    await club.say(admin, "Мама,  папа")
    await admin.expect_replies(2)
    await club.press(admin, "📍 Place")
    await club.say(admin, "-")  # clears it
    await admin.expect_replies(2)
    await club.press(admin, "✏️ Edit title")
    await club.say(admin, "Свято-Николаевский собор")
    await admin.expect_replies(2)

    async with club.app.ctx.session_factory() as session:
        memoir = await session.scalar(select(Memoir))
        assert memoir is not None
        assert (memoir.title, memoir.year, memoir.decade, memoir.place, memoir.people) == (
            "Свято-Николаевский собор",
            1947,
            1940,
            None,
            "Мама, папа",
        )
        assert "мама папа" in memoir.search_text and memoir.status == "pending"
