"""Paths the first memoir tests left out: a running export, a big export, a corrupt image."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive import memoirs as records
from db.models import MediaFile, Member
from handlers import memoir_review
from tests.club import ADMIN_ID, Club


def _saved_book(path: Path) -> bool:
    """The saved ZIP is there and no half-built work file is left beside it."""
    named = path.name.startswith("harbin-memoirs-") and path.suffix == ".zip"
    return path.is_file() and named and not list(path.parent.glob(".building-*"))


async def _organiser(club: Club):  # type: ignore[no-untyped-def]
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    return admin


async def test_second_export_is_refused_while_one_runs(club: Club) -> None:
    admin = await _organiser(club)
    async with memoir_review._export_lock:  # as if another export were building
        reply = await club.say(admin, "/export")
    assert "already running" in (reply.text or "")
    assert not (club.settings.media_dir.parent / "exports").exists()


async def test_export_over_the_upload_limit_is_saved_on_the_server(
    club: Club, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await _organiser(club)
    async with club.app.ctx.session_factory() as session:
        member = await session.scalar(select(Member))
        assert member is not None
        memoir = await records.create_draft(session, member, "Сунгари")
        await session.commit()
        await records.add_text(session, memoir, "Каток на реке")
        await session.commit()
        await records.submit(session, memoir)
        await session.commit()
        await records.decide(session, memoir, approve=True)
        await session.commit()
    monkeypatch.setattr(memoir_review, "UPLOAD_LIMIT", 1)  # any book is "too big"
    mark = len(club.fake.requests)
    reply = await club.say(admin, "/export")
    assert "Building" in (reply.text or "")
    reply = await admin.expect_reply(timeout=20)
    assert "too big to send here" in (reply.text or "")
    path = Path((reply.text or "").rsplit(": ", 1)[1])
    assert _saved_book(path)
    assert "sendDocument" not in {r.method for r in club.fake.requests[mark:]}


async def test_corrupt_image_is_kept_as_a_document(club: Club) -> None:
    anna = club.user(501, first_name="Anna", language_code="en")
    await club.register(anna)
    await club.say(anna, "/memoir")
    anna.send_photo(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    reply = await anna.expect_reply()
    assert "couldn't open this picture" in (reply.text or "")
    reply = await club.press(anna, "✅ Done")
    assert "title" in (reply.text or "")  # the memoir has content and goes on
    async with club.app.ctx.session_factory() as session:
        [item] = list(await session.scalars(select(MediaFile)))
    assert item.kind == "document"
    stored = club.settings.media_dir / item.path
    assert stored.read_bytes() == b"\xff\xd8\xff\xe0 this is not really a JPEG"  # unchanged


async def test_a_file_too_big_for_the_bot_api_gets_a_clear_answer(club: Club) -> None:
    anna = club.user(502, first_name="Anna", language_code="en")
    await club.register(anna)
    await club.say(anna, "/memoir")
    big = b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)  # the public Bot API serves up to 20 MB
    anna.send_document(big, "scan.pdf", "application/pdf")
    reply = await anna.expect_reply(timeout=20)
    assert "too big for me to download" in (reply.text or "")
    assert "20 MB" in (reply.text or "")
    # Nothing half-stored: the memoir still has no parts, so "Done" asks for content.
    anna.send_text("The ice on the Sungari was thick that winter.")
    reply = await anna.expect_reply()
    assert "Text saved" in (reply.text or "")


async def test_approving_the_last_memoir_keeps_the_confirmation_and_answers_once(
    club: Club,
) -> None:
    admin = await _organiser(club)
    async with club.app.ctx.session_factory() as session:
        member = await session.scalar(select(Member))
        assert member is not None
        memoir = await records.create_draft(session, member, None)
        await records.add_text(session, memoir, "Каток на реке")
        memoir.title = "Каток"
        await records.submit(session, memoir)
        await session.commit()
    await club.say(admin, "/review")
    await admin.expect_replies(1)  # the buttons under the card
    admin.press("✅ Approve")
    await admin.expect_replies(3)  # the edit, the author's good news (the organiser wrote
    # it), and the empty queue below
    texts = [m.text or "" for m in admin.messages()]
    approved = next(i for i, t in enumerate(texts) if t.startswith("Approved: “Каток”."))
    assert texts.index("No memoirs are waiting for review.") > approved
    # (the club fixture checks that every press was answered exactly once)
