"""The media store: dedupe, location stripping, corrupt images, crash-safety check."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from archive.memoirs import (
    add_media,
    create_draft,
    delete_memoirs,
    normalize,
    parse_period,
    search_approved,
)
from db.engine import create_engine, create_session_factory
from db.exif import EXIF_IFD, GPS_IFD
from db.media import KIND_DOCUMENT, KIND_PHOTO, MediaStore
from db.media_check import check_media
from db.migrate import upgrade_to_head
from db.models import MediaFile, Member

DATE_TAKEN = 0x9003
ORIENTATION = 0x0112


def jpeg_with_gps(color: str = "red") -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif.get_ifd(EXIF_IFD)[DATE_TAKEN] = "1958:07:01 10:00:00"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (45.0, 45.0, 0.0), 3: "E", 4: (126.0, 38.0, 0.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_gps_is_stripped_and_date_and_orientation_kept(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test is honest
    blob = store.put_bytes(original, kind=KIND_PHOTO, mime_type="image/jpeg")
    stored = store.absolute(blob.path)
    exif = Image.open(stored).getexif()
    assert not exif.get_ifd(GPS_IFD) and GPS_IFD not in exif
    assert exif[ORIENTATION] == 6
    assert exif.get_ifd(EXIF_IFD)[DATE_TAKEN] == "1958:07:01 10:00:00"
    assert blob.path.startswith(f"{blob.sha256[:2]}/{blob.sha256[2:4]}/") and blob.path.endswith(
        ".jpg"
    )
    assert Image.open(stored).size == (16, 12)  # still a valid picture


def test_same_photo_twice_is_stored_once(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    data = jpeg_with_gps()
    first = store.put_bytes(data, kind=KIND_PHOTO, mime_type="image/jpeg")
    second = store.put_bytes(data, kind=KIND_PHOTO, mime_type="image/jpeg")
    assert first == second
    assert store.iter_files() == [first.path]
    assert store.temp_files() == []


def test_corrupt_image_is_kept_as_a_document(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    broken = jpeg_with_gps()[:200]  # truncated
    blob = store.put_bytes(broken, kind=KIND_PHOTO, mime_type="image/jpeg")
    assert blob.kind == KIND_DOCUMENT and blob.demoted
    assert store.absolute(blob.path).read_bytes() == broken


def test_search_form_and_periods() -> None:
    assert normalize("Ёлка на  Китайской") == "елка на китайской"
    assert normalize("哈尔滨 Harbin") == "哈尔滨 harbin"
    assert parse_period("1935") == (1930, 1935)
    assert parse_period("1930-е") == (1930, None)
    assert parse_period("1940s") == (1940, None)
    assert parse_period("50-е") == (1950, None)
    assert parse_period("1930年代") == (1930, None)
    assert parse_period("давно") is None


async def test_check_finds_orphans_and_missing_files(tmp_path: Path, database_url: str) -> None:
    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    store = MediaStore(tmp_path / "media")
    try:
        async with factory() as session:
            member = Member(telegram_id=1, locale="ru", name="Анна")
            session.add(member)
            await session.commit()
            memoir = await create_draft(session, member)
            await session.commit()
            kept = store.put_bytes(jpeg_with_gps("red"), kind=KIND_PHOTO, mime_type="image/jpeg")
            lost = store.put_bytes(jpeg_with_gps("blue"), kind=KIND_PHOTO, mime_type="image/jpeg")
            await add_media(session, memoir, kept)
            await session.commit()
            await add_media(session, memoir, lost)
            await session.commit()
            assert await add_media(session, memoir, kept) is None  # same content, same memoir
            await session.commit()
        assert (await check_media(store, factory)).ok

        # A crash after the rename but before the commit: a file nobody recorded.
        orphan = store.put_bytes(jpeg_with_gps("green"), kind=KIND_PHOTO, mime_type="image/jpeg")
        # A crash mid-write: a temp file (never recorded, removed at start-up).
        (store.tmp_dir / "x.part").write_bytes(b"half")
        # Disk trouble: a recorded file vanished.
        store.absolute(lost.path).unlink()

        report = await check_media(store, factory)
        assert report.orphans == [orphan.path]
        assert [path for _id, path in report.missing] == [lost.path]
        assert report.temp_removed == 1 and store.temp_files() == []

        async with factory() as session:
            await delete_memoirs(session, store, [memoir.id])
            await session.commit()
            assert list(await session.scalars(select(MediaFile))) == []
            assert (await search_approved(session, None, 0)).total == 0
        assert not store.absolute(kept.path).exists()
    finally:
        await engine.dispose()
