"""Memoirs through the offline Bot API bench, with real getFile downloads."""

from __future__ import annotations

from PIL import Image
from sqlalchemy import select

from db.exif import EXIF_IFD, GPS_IFD
from db.media import MediaStore
from db.models import MediaFile, Memoir
from handlers.memoirs import MyCb
from tests.club import ADMIN_ID, Club
from tests.test_archive_storage import jpeg_with_gps


async def _memoirs(club: Club) -> list[Memoir]:
    async with club.app.ctx.session_factory() as session:
        return list(await session.scalars(select(Memoir).order_by(Memoir.id)))


async def _media(club: Club) -> list[MediaFile]:
    async with club.app.ctx.session_factory() as session:
        return list(await session.scalars(select(MediaFile).order_by(MediaFile.id)))


async def test_share_review_browse_and_delete(club: Club) -> None:
    anna = club.user(501, first_name="Anna", language_code="en")
    await club.register(anna)
    bob = club.user(502, first_name="Борис", language_code="ru")
    await club.register(bob, lang="Русский", country="Россия", city_prefix="Москва")
    admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
    await club.register(admin, country="Germany", city_prefix="Berlin")
    red, blue = jpeg_with_gps("red"), jpeg_with_gps("blue")

    # ---- Anna: text, voice, an album of two captioned photos, a duplicate, a document
    reply = await club.say(anna, "/memoir")
    assert "Done" in (reply.text or "")
    reply = await club.say(anna, "Зимой мы катались на Сунгари, а на Китайской стояла ёлка.")
    assert "Text saved" in (reply.text or "")
    anna.send_voice(b"OggS\x00voice-bytes", duration=7)
    assert "Recording saved" in ((await anna.expect_reply()).text or "")
    anna.send_photo(red, caption="Мама на льду", media_group_id="album-1")
    anna.send_photo(blue, caption="Собор", media_group_id="album-1")
    # One receipt for the album, once its parts have stopped coming.
    receipt = await anna.expect_reply()
    assert "Album saved. Photos: 2." in (receipt.text or "")
    await anna.expect_no_reply(within=1.5)
    anna.send_photo(red)
    assert "already in your memoir" in ((await anna.expect_reply()).text or "")
    anna.send_document(b"%PDF-1.4 letter", "letter.pdf", "application/pdf")
    assert "Document saved" in ((await anna.expect_reply()).text or "")
    anna.send_sticker()
    assert "Stickers" in ((await anna.expect_reply()).text or "")
    reply = await club.say(anna, "   ")
    assert "empty" in (reply.text or "")
    anna.send_document(b"\0" * (20 * 1024 * 1024 + 1), "huge.tif", "image/tiff")
    assert "20 MB" in ((await anna.expect_reply()).text or "")

    reply = await club.press(anna, "✅ Done")
    assert "title" in (reply.text or "")
    reply = await club.say(anna, "Skating on the Sungari")
    assert "decade" in (reply.text or "")
    reply = await club.press(anna, "1930s")
    assert "Harbin" in (reply.text or "")
    await club.say(anna, "Китайская улица")
    reply = await club.press(anna, "Skip")
    assert "public website" in (reply.text or "")
    reply = await club.press(anna, "🌐 Yes, without my name")
    assert "sent to the organisers" in (reply.text or "")

    [memoir] = await _memoirs(club)
    assert (memoir.status, memoir.title, memoir.decade, memoir.place, memoir.web_consent) == (
        "pending",
        "Skating on the Sungari",
        1930,
        "Китайская улица",
        "anonymous",
    )
    media = await _media(club)
    assert sorted(m.kind for m in media) == ["document", "photo", "photo", "voice"]
    assert {m.caption for m in media if m.kind == "photo"} == {"Мама на льду", "Собор"}
    store = MediaStore(club.settings.media_dir)
    photo = next(m for m in media if m.caption == "Мама на льду")
    exif = Image.open(store.absolute(photo.path)).getexif()
    assert not exif.get_ifd(GPS_IFD) and exif.get_ifd(EXIF_IFD)[0x9003] == "1958:07:01 10:00:00"

    # ---- Bob: the same photo in his own memoir is stored once on disk
    await club.say(bob, "/memoir")
    bob.send_photo(red, caption="Тот же снимок")
    await bob.expect_reply()
    await club.press(bob, "✅ Готово")
    await club.press(bob, "Пропустить")  # title → "Без названия"
    await club.press(bob, "Пропустить")
    await club.press(bob, "Пропустить")
    await club.press(bob, "Пропустить")
    await club.press(bob, "🔒 Нет, только для членов клуба")
    assert len(store.iter_files()) == 4  # red, blue, voice, pdf: red not stored twice

    # ---- review: approve Anna's (with her files shown), reject Bob's with a reason
    mark = len(club.fake.requests)
    reply = await club.say(admin, "/review")
    assert "Skating on the Sungari" in (reply.text or "")
    await admin.expect_replies(5)  # 2 photos, voice, document, then the buttons
    sent = {r.method for r in club.fake.requests[mark:]}
    assert {"sendPhoto", "sendVoice", "sendDocument"} <= sent
    admin.press("✅ Approve")
    await admin.expect_replies(2)
    assert "now in the club's archive" in (anna.messages()[-1].text or "")
    await admin.expect_replies(2)  # Bob's memoir and its photo, then buttons
    reply = await club.press(admin, "❌ Reject")
    assert "reason" in (reply.text or "")
    await club.say(admin, "Пожалуйста, добавьте пару слов о снимке.")
    bobs_note = bob.messages()[-1].text or ""
    assert "добавьте пару слов" in bobs_note and "Без названия" in bobs_note

    # ---- archive: search with е for ё, case-insensitive; open the memoir
    reply = await club.say(bob, "/archive ЕЛКА")
    assert "1" in (reply.text or "") and "Skating on the Sungari" in reply.button_labels[0]
    reply = await club.press(bob, reply.button_labels[0])
    assert "Сунгари" in (reply.text or "")
    await bob.expect_replies(4)  # its two photos, the recording and the document
    reply = await club.say(bob, "/archive nothing-like-this")
    assert "0" in (reply.text or "")

    # ---- another member's memoir id in a callback is refused
    bob.press_data(bob.messages()[-1].message_id, MyCb(action="view", memoir_id=memoir.id).pack())
    answer = await bob.expect_callback_answer()
    assert "not available" in (answer.text or "") or "недоступ" in (answer.text or "")
    bob.press_data(
        bob.messages()[-1].message_id, MyCb(action="confirm", memoir_id=memoir.id).pack()
    )
    await bob.expect_callback_answer()
    assert len(await _memoirs(club)) == 2

    # ---- Anna deletes hers: her files go, the photo Bob shares stays
    reply = await club.say(anna, "/my")
    await club.press(anna, reply.button_labels[0])
    await anna.expect_replies(5)
    reply = await club.press(anna, "🗑 Delete")
    assert "cannot be undone" in (reply.text or "")
    reply = await club.press(anna, "Yes, delete it")
    assert "Deleted" in (reply.text or "")
    assert [m.member_id for m in await _memoirs(club)] != [] and len(await _memoirs(club)) == 1
    assert len(store.iter_files()) == 1 and store.iter_files()[0] == photo.path
