"""A small club for the web tests: memoirs in three languages with photos and a recording,
one shared with members only, one still waiting for review (with its own photo and
voice), burial records, the next meeting, and a way to sign Telegram's initData."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import math
import struct
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image, ImageDraw

import burials
from archive import collection
from archive import memoirs as records
from db.engine import create_engine, create_session_factory
from db.media import KIND_PHOTO, KIND_VOICE, MediaStore
from db.migrate import upgrade_to_head
from db.models import Meeting, Member, Memoir
from ground.clock import FixedClock
from ground.context import AppContext
from ground.i18n import Catalogs
from ground.settings import load_settings

TOKEN = "123456:TEST-token-for-the-web-tests"
NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)
ANNA_TELEGRAM_ID = 501


def picture(color: tuple[int, int, int], label: str, size: tuple[int, int] = (900, 600)) -> bytes:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, size[0] - 40, size[1] - 40), outline=(255, 255, 255), width=8)
    draw.text((80, 80), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def recording(seconds: float = 1.5, tone: float = 440.0) -> bytes:
    """A WAV file a browser can play (a short tone)."""
    rate = 16_000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * i / rate)))
            for i in range(int(rate * seconds))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def sign_init_data(
    user_id: int, *, token: str = TOKEN, auth_date: datetime = NOW, first_name: str = "Anna"
) -> str:
    """Telegram's initData for this bot, signed as Telegram signs it."""
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(
            {"id": user_id, "first_name": first_name, "language_code": "ru"},
            separators=(",", ":"),
        ),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass
class Seeded:
    skating: int  # ru, named, photo + recording
    school: int  # en, anonymous, photo
    avenue: int  # zh, named, no photo
    members_only: int
    pending: int  # Anna's own, waiting for review, photo + recording
    rejected: int
    grave: int
    pending_grave: int
    public_photo: str  # sha256
    secret_photo: str
    public_voice: str
    secret_voice: str
    grave_photo: str


async def _memoir(
    session,  # type: ignore[no-untyped-def]
    store: MediaStore,
    member: Member | None,
    *,
    title: str,
    body: str,
    status: str,
    consent: str,
    decade: int | None = None,
    year: int | None = None,
    place: str | None = None,
    theme: str | None = None,
    photo: bytes | None = None,
    caption: str | None = None,
    voice: bytes | None = None,
    author: str | None = "Анна Петрова",
) -> tuple[int, str | None, str | None]:
    if member is not None:
        memoir = await records.create_draft(session, member, theme)
    else:
        memoir = Memoir(member_id=None, author_name=author, status="draft", theme=theme)
        session.add(memoir)
        await session.flush()
    memoir.author_name = author
    await records.add_text(session, memoir, body)
    photo_sha = voice_sha = None
    if photo is not None:
        blob = await asyncio.to_thread(
            store.put_bytes, photo, kind=KIND_PHOTO, mime_type="image/jpeg"
        )
        await records.add_media(session, memoir, blob, caption=caption, original_name="p.jpg")
        photo_sha = blob.sha256
    if voice is not None:
        blob = await asyncio.to_thread(
            store.put_bytes, voice, kind=KIND_VOICE, mime_type="audio/wav"
        )
        await records.add_media(session, memoir, blob, original_name="voice.wav")
        voice_sha = blob.sha256
    await records.set_details(
        session, memoir, title=title, decade=decade, year=year, place=place, theme=theme
    )
    await records.submit(session, memoir)
    if status != records.PENDING:
        await records.decide(session, memoir, approve=status == records.APPROVED, reason="-")
    await collection.set_web_consent(session, memoir, consent)
    return memoir.id, photo_sha, voice_sha


async def seed(factory, store: MediaStore) -> Seeded:  # type: ignore[no-untyped-def]
    async with factory() as session:
        anna = Member(
            telegram_id=ANNA_TELEGRAM_ID,
            locale="ru",
            name="Анна",
            country="AU",
            zone="Australia/Sydney",
            city="Sydney",
            registered_at=NOW - timedelta(days=30),
            consent_at=NOW - timedelta(days=30),
        )
        session.add(anna)
        await session.flush()
        skating, public_photo, public_voice = await _memoir(
            session,
            store,
            anna,
            title="Каток на Сунгари",
            body="Зимой мы катались на Сунгари, а на Китайской улице стояла ёлка.\n\n"
            "Отец заливал каток во дворе гимназии.",
            status=records.APPROVED,
            consent=collection.NAMED,
            decade=1930,
            year=1935,
            place="Китайская улица",
            theme="Зима",
            photo=picture((30, 60, 120), "Sungari 1935"),
            caption="Мама на льду",
            voice=recording(),
        )
        school, _p, _v = await _memoir(
            session,
            store,
            None,
            title="Schools of Harbin",
            body="Our school stood near the cathedral; in winter we skated on the river.",
            status=records.APPROVED,
            consent=collection.ANONYMOUS,
            decade=1940,
            place="Modiagou",
            theme="School",
            photo=picture((120, 40, 40), "School 1947"),
            author="John Smith",
        )
        avenue, _p, _v = await _memoir(
            session,
            store,
            None,
            title="中央大街的冬天",
            body="我们在哈尔滨市的中央大街上散步，松花江结冰了。",
            status=records.APPROVED,
            consent=collection.NAMED,
            decade=1950,
            place="中央大街",
            theme="Зима",
            author="李华",
        )
        members_only, _p, _v = await _memoir(
            session,
            store,
            None,
            title="Только для своих",
            body="Эту историю рассказываю только членам клуба: пристань и лодки.",
            status=records.APPROVED,
            consent=collection.MEMBERS_ONLY,
            decade=1930,
            author="Борис",
        )
        pending, secret_photo, secret_voice = await _memoir(
            session,
            store,
            anna,
            title="Черновик о соборе",
            body="Собор на Соборной площади, колокола по воскресеньям. Секретный черновик.",
            status=records.PENDING,
            consent=collection.NAMED,
            decade=1920,
            photo=picture((20, 110, 60), "Cathedral"),
            caption="Собор",
            voice=recording(tone=330.0),
        )
        rejected, _p, _v = await _memoir(
            session,
            store,
            None,
            title="Отклонённое",
            body="Этот текст отклонён организаторами, собор и каток.",
            status=records.REJECTED,
            consent=collection.NAMED,
            author="Пётр",
        )
        grave = await burials.add_record(
            session,
            surname="Щукинъ",
            given_names="Ѳеодоръ",
            born="1862",
            died="1910-03-02 OS",
            cemetery="Старое кладбище, Харбин",
            inscription="Миръ праху твоему",
            status=burials.APPROVED,
        )
        photo = await burials.add_photo(
            session, store, grave, picture((90, 90, 90), "Grave"), caption="1989"
        )
        pending_grave = await burials.add_record(
            session, surname="Секретов", given_names="Иван", born="1900"
        )
        session.add(
            Meeting(
                uid="meeting-1@harbin-club",
                starts_at=NOW + timedelta(days=7, hours=-1, minutes=28),
                theme="Зима на Сунгари",
                link="https://zoom.example/secret-link",
                status="scheduled",
            )
        )
        await session.commit()
        assert public_photo and secret_photo and public_voice and secret_voice
        return Seeded(
            skating=skating,
            school=school,
            avenue=avenue,
            members_only=members_only,
            pending=pending,
            rejected=rejected,
            grave=grave.id,
            pending_grave=pending_grave.id,
            public_photo=public_photo,
            secret_photo=secret_photo,
            public_voice=public_voice,
            secret_voice=secret_voice,
            grave_photo=photo.sha256,
        )


@dataclass
class WebClub:
    ctx: AppContext
    store: MediaStore
    seeded: Seeded
    clock: FixedClock


@asynccontextmanager
async def web_club(
    tmp_path: Path, url: str, *, base_url: str = "http://127.0.0.1:8080", **overrides: object
) -> AsyncIterator[WebClub]:
    await upgrade_to_head(url)
    settings = load_settings(
        _env_file=None,
        database_url=url,
        media_dir=str(tmp_path / "media"),
        public_base_url=base_url,
        default_locale="ru",
        **overrides,
    )
    engine = create_engine(url)
    clock = FixedClock(NOW)
    ctx = AppContext(
        settings=settings,
        session_factory=create_session_factory(engine),
        i18n=Catalogs("ru"),
        clock=clock,
    )
    store = MediaStore(settings.media_dir)
    try:
        seeded = await seed(ctx.session_factory, store)
        yield WebClub(ctx, store, seeded, clock)
    finally:
        await engine.dispose()
