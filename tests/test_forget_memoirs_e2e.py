"""/forget with memoirs: delete them all, or keep the published ones without a name."""

from __future__ import annotations

from sqlalchemy import select

from archive.memoirs import add_text, create_draft, decide, submit
from db.models import Memoir
from tests.club import Club


async def _memoirs_for(club: Club, user_id: int) -> None:
    async with club.app.ctx.session_factory() as session:
        member = await club.member(user_id)
        assert member is not None
        for title, approve in (("Sungari in winter", True), ("Draft about school", None)):
            memoir = await create_draft(session, member)
            await session.commit()
            memoir.title = title
            await add_text(session, memoir, "Мы катались на санках по льду Сунгари.")
            await session.commit()
            if approve is not None:
                await submit(session, memoir)
                await session.commit()
                await decide(session, memoir, approve=approve)
                await session.commit()


async def test_forget_can_keep_published_memoirs_anonymously(club: Club) -> None:
    user = club.user(701, first_name="Nina", language_code="en")
    await club.register(user)
    await _memoirs_for(club, 701)
    reply = await club.say(user, "/forget")
    assert reply.button_labels == [
        "Yes, delete everything",
        "Delete, but keep my published memoirs without my name",
        "No, keep it",
    ]
    await club.press(user, "Delete, but keep my published memoirs without my name")
    assert await club.member(701) is None
    async with club.app.ctx.session_factory() as session:
        kept = list(await session.scalars(select(Memoir)))
    assert [(m.title, m.member_id, m.author_name) for m in kept] == [
        ("Sungari in winter", None, None)
    ]


async def test_forget_everything_deletes_memoirs_too(club: Club) -> None:
    user = club.user(702, first_name="Ivan", language_code="en")
    await club.register(user)
    await _memoirs_for(club, 702)
    await club.say(user, "/forget")
    await club.press(user, "Yes, delete everything")
    async with club.app.ctx.session_factory() as session:
        assert list(await session.scalars(select(Memoir))) == []
