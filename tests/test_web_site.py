"""The web archive over HTTP, on SQLite and PostgreSQL: who sees what, search in three
languages, files, validators, headers, the rate limit, the sitemap and the Mini App."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import select, update

from archive import collection
from archive import memoirs as records
from archive.search import SEARCH_VERSION, reindex_outdated
from db.models import Member, Memoir, Rsvp
from tests.web_club import ANNA_TELEGRAM_ID, NOW, TOKEN, WebClub, sign_init_data, web_club
from web.app import build_web_app
from web.session import COOKIE


@dataclass
class Site:
    club: WebClub
    client: TestClient

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def text(self, path: str, status: int = 200, **kw: object) -> str:
        response = await self.client.get(path, allow_redirects=False, **kw)  # type: ignore[arg-type]
        body = await response.text()
        assert response.status == status, (path, response.status, body[:300])
        return body

    async def sign_in(self, telegram_id: int = ANNA_TELEGRAM_ID) -> None:
        response = await self.client.post(
            "/app/auth", data=sign_init_data(telegram_id), headers={"Origin": self.origin}
        )
        assert response.status == 204


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    async with web_club(tmp_path, database_url) as club:
        app = build_web_app(club.ctx, bot_token=TOKEN)
        async with TestClient(TestServer(app)) as client:
            yield Site(club, client)


def titles(html: str) -> set[str]:
    return set(re.findall(r'<span class="card-title">([^<]*)</span>', html))


async def test_the_public_collection_shows_only_what_authors_agreed_to_publish(site: Site) -> None:
    html = await site.text("/ru/")
    assert titles(html) == {"Каток на Сунгари", "Schools of Harbin", "中央大街的冬天"}
    assert "Анна Петрова" in html  # named
    assert "John Smith" not in html and "аноним" in html  # the author chose anonymity
    for hidden in ("Только для своих", "Черновик о соборе", "Отклонённое", "Секрет"):
        assert hidden not in html
    english = await site.text("/en/?decade=1930")
    assert titles(english) == {"Каток на Сунгари"} and "1930s" in english
    assert titles(await site.text("/zh/?place=" + "中央大街")) == {"中央大街的冬天"}
    assert titles(await site.text("/ru/?theme=Зима")) == {"Каток на Сунгари", "中央大街的冬天"}
    s = site.club.seeded
    assert "Секретный" not in await site.text(f"/ru/memoirs/{s.skating}")
    for hidden in (s.members_only, s.pending, s.rejected, 999_999):
        body = await site.text(f"/en/memoirs/{hidden}", status=404)
        assert "Page not found" in body and "Только" not in body and "Черновик" not in body
    await site.text("/en/memoirs/abc", status=404)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("елка", {"Каток на Сунгари"}),  # ё written е
        ("ЁЛКА", {"Каток на Сунгари"}),
        ("сунгар", {"Каток на Сунгари"}),  # a word by its beginning: Сунгари, Сунгарийский
        ("哈尔滨", {"中央大街的冬天"}),  # inside 哈尔滨市, written without spaces
        ("松花江 中央大街", {"中央大街的冬天"}),
        ("school river", {"Schools of Harbin"}),
        ("cathedral", {"Schools of Harbin"}),
        ("собор", set()),  # only in a memoir waiting for review and a rejected one
        ("пристань", set()),  # only in a memoir shared with members
        ("滨中", set()),  # the characters are there, but not side by side
        ("!!!", set()),
    ],
)
async def test_search_in_russian_chinese_and_english(site: Site, query: str, found: set) -> None:
    html = await site.text("/ru/search", params={"q": query})
    assert titles(html) == found
    assert f"Найдено: {len(found)}" in html


async def test_the_search_index_follows_every_change(site: Site) -> None:
    factory = site.club.ctx.session_factory
    async with factory() as session:
        memoir = await records.load_memoir(session, site.club.seeded.school)
        assert memoir is not None
        await records.add_text(session, memoir, "Потом мы уехали в Циндао.")
        await session.commit()
    assert titles(await site.text("/en/search", params={"q": "циндао"})) == {"Schools of Harbin"}
    # Rows written by older rules are found again once the start-up step rewrote them.
    async with factory() as session:
        await session.execute(update(Memoir).values(search_text="", search_version=0))
        await session.commit()
    assert titles(await site.text("/en/search", params={"q": "циндао"})) == set()
    async with factory() as session:
        assert await reindex_outdated(session, limit=2) == 2
        while await reindex_outdated(session):
            pass
        await session.commit()
        assert {m.search_version for m in await session.scalars(select(Memoir))} == {SEARCH_VERSION}
    assert titles(await site.text("/en/search", params={"q": "циндао"})) == {"Schools of Harbin"}
    assert titles(await site.text("/en/search", params={"q": "мама"})) == {"Каток на Сунгари"}
    async with factory() as session:
        await records.delete_memoirs(session, site.club.store, [site.club.seeded.school])
        await session.commit()
    assert titles(await site.text("/en/search", params={"q": "циндао"})) == set()


async def test_files_are_served_only_for_published_memoirs(site: Site) -> None:
    s = site.club.seeded
    response = await site.client.get(f"/media/{s.public_photo}.jpg")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    thumb = await site.client.get(f"/media/{s.public_photo}-320.jpg")
    assert thumb.status == 200
    image = Image.open(io.BytesIO(await thumb.read()))
    assert image.width == 320 and not image.getexif()
    voice = await site.client.get(f"/media/{s.public_voice}.wav")
    assert voice.status == 200 and voice.headers["Content-Type"] == "audio/wav"
    ranged = await site.client.get(f"/media/{s.public_voice}.wav", headers={"Range": "bytes=0-9"})
    assert ranged.status == 206 and len(await ranged.read()) == 10  # seeking in a recording
    for path in (
        f"/media/{s.secret_photo}.jpg",
        f"/media/{s.secret_photo}-320.jpg",
        f"/media/{s.secret_voice}.wav",
        f"/media/{s.public_photo}-333.jpg",  # a width we do not make
        f"/media/{s.public_photo}.png",  # not what the bytes are
        f"/media/{s.public_voice}-320.jpg",  # a recording has no thumbnail
        "/media/../../etc/passwd",
    ):
        assert (await site.client.get(path)).status == 404, path
    # A gravestone photo of an approved record is public; a pending record's page is not.
    photo = await site.client.get(f"/graves/{s.grave}/photos/{s.grave_photo}-640.jpg")
    assert photo.status == 200
    await site.text(f"/ru/graves/{s.pending_grave}", status=404)


async def test_an_unchanged_page_answers_304(site: Site) -> None:
    first = await site.client.get("/en/")
    etag = first.headers["ETag"]
    again = await site.client.get("/en/", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    assert (await site.client.get("/ru/", headers={"If-None-Match": etag})).status == 200
    async with site.club.ctx.session_factory() as session:
        memoir = await session.get(Memoir, site.club.seeded.members_only)
        assert memoir is not None
        await collection.set_web_consent(session, memoir, collection.NAMED)
        await session.commit()
    changed = await site.client.get("/en/", headers={"If-None-Match": etag})
    assert changed.status == 200 and "Только для своих" in await changed.text()


async def test_pages_are_safe_by_default(site: Site) -> None:
    async with site.club.ctx.session_factory() as session:
        memoir = await session.get(Memoir, site.club.seeded.skating)
        assert memoir is not None
        await records.set_details(session, memoir, title='<script>alert("x")</script>')
        await session.commit()
    response = await site.client.get(f"/ru/memoirs/{site.club.seeded.skating}")
    html = await response.text()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY"
    # No inline script or style anywhere: every <script> has a src, no style attributes.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html
    assert re.search(r'<img [^>]*alt="[^"]+"', html)


async def test_searches_are_limited_per_address(site: Site) -> None:
    def from_(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"10.0.0.1, {address}"}

    for _ in range(10):
        await site.text("/ru/search", params={"q": "харбин"}, headers=from_("203.0.113.5"))
    refused = await site.client.get(
        "/ru/search", params={"q": "харбин"}, headers=from_("203.0.113.5")
    )
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Подождите несколько секунд" in await refused.text()
    await site.text("/ru/search", params={"q": "харбин"}, headers=from_("203.0.113.6"))
    await site.text("/ru/", headers=from_("203.0.113.5"))  # browsing is not limited


async def test_burial_records_search_and_pages(site: Site) -> None:
    s = site.club.seeded
    for query in ("Щукин", "Fyodor Shchukin", "费奥多尔·休金"):
        html = await site.text("/ru/graves", params={"q": query})
        assert f'href="/ru/graves/{s.grave}"' in html, query
    hidden = await site.text("/ru/graves", params={"q": "Секретов"})
    assert f"/graves/{s.pending_grave}" not in hidden and "ничего не найдено" in hidden
    page = await site.text(f"/en/graves/{s.grave}")
    assert "Щукинъ Ѳеодоръ" in page and "Миръ праху твоему" in page
    assert "1910-03-02 (Old Style)" in page
    assert f"/graves/{s.grave}/photos/{s.grave_photo}-640.jpg" in page


async def test_meeting_page_and_previews(site: Site) -> None:
    html = await site.text("/zh/meeting")
    assert "Зима на Сунгари" in html and 'datetime="2027-01-16T11:00:00Z"' in html
    assert "哈尔滨" in html and "19:00" in html  # Harbin, UTC+8
    assert "zoom.example" not in html  # the meeting link is never public
    page = await site.text(f"/en/memoirs/{site.club.seeded.skating}")
    base = site.club.ctx.settings.public_base_url
    photo = site.club.seeded.public_photo
    assert f'<meta property="og:image" content="{base}/media/{photo}-1280.jpg">' in page
    assert f'<link rel="canonical" href="{base}/en/memoirs/{site.club.seeded.skating}">' in page
    for hreflang in ("ru", "en", "zh-Hans", "x-default"):
        assert f'hreflang="{hreflang}"' in page
    assert '<html lang="en">' in page


async def test_sitemap_lists_public_pages_only(site: Site) -> None:
    s = site.club.seeded
    index = await site.text("/sitemap.xml")
    assert "/sitemaps/memoirs-0.xml" in index and "/sitemaps/graves-0.xml" in index
    memoirs = await site.text("/sitemaps/memoirs-0.xml")
    for public in (s.skating, s.school, s.avenue):
        for lang in ("ru", "en", "zh"):
            assert f"/{lang}/memoirs/{public}</loc>" in memoirs
    for hidden in (s.members_only, s.pending, s.rejected):
        assert f"/memoirs/{hidden}<" not in memoirs
    graves = await site.text("/sitemaps/graves-0.xml")
    assert f"/graves/{s.grave}<" in graves and f"/graves/{s.pending_grave}<" not in graves
    assert "Disallow: /app/" in await site.text("/robots.txt")


async def test_mini_app_sign_in_checks_telegrams_signature_and_age(site: Site) -> None:
    origin = {"Origin": site.origin}
    good = sign_init_data(ANNA_TELEGRAM_ID)
    forged = good.replace("Anna", "Eve")
    old = sign_init_data(ANNA_TELEGRAM_ID, auth_date=NOW - timedelta(days=1, minutes=1))
    wrong_bot = sign_init_data(ANNA_TELEGRAM_ID, token="654321:another-bot-token-xyz")
    for body in (forged, old, wrong_bot, "", "hash=abc", "garbage%%%"):
        response = await site.client.post("/app/auth", data=body, headers=origin)
        assert response.status == 401, body
        assert COOKIE not in response.cookies
    stranger = await site.client.post("/app/auth", data=sign_init_data(777), headers=origin)
    assert stranger.status == 403
    cross_site = await site.client.post(
        "/app/auth", data=good, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status == 403
    assert (await site.client.post("/app/auth", data=good)).status == 403  # no Origin at all
    response = await site.client.post("/app/auth", data=good, headers=origin)
    assert response.status == 204
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Max-Age=3600", "Path=/app"):
        assert attribute in cookie


async def test_mini_app_shows_a_member_their_own_and_the_members_memoirs(site: Site) -> None:
    s = site.club.seeded
    assert "Черновик" not in await site.text("/app/home", status=401)
    assert (await site.client.get(f"/app/media/{s.secret_photo}.jpg")).status == 404
    await site.text(f"/app/memoirs/{s.pending}", status=404)  # an address reveals nothing
    await site.sign_in()
    home = await site.text("/app/home")
    assert "Черновик о соборе" in home and "Каток на Сунгари" in home  # her own
    assert "Только для своих" in home  # shared with members only
    assert "Schools of Harbin" not in home  # public ones live on the public site
    memoir = await site.text(f"/app/memoirs/{s.pending}")
    assert "Секретный черновик" in memoir and "Ждёт проверки организаторами." in memoir
    for path in (f"/app/media/{s.secret_photo}-640.jpg", f"/app/media/{s.secret_voice}.wav"):
        response = await site.client.get(path)
        assert response.status == 200 and "private" in response.headers["Cache-Control"]
    await site.text(f"/app/memoirs/{s.rejected}", status=404)  # someone else's, not approved
    # The member changes her answer for the meeting and her consent for the web.
    rsvp = await site.client.post(
        "/app/rsvp",
        data={"meeting": "1", "answer": "maybe"},
        headers={"Origin": site.origin},
        allow_redirects=False,
    )
    assert rsvp.status == 303
    consent = await site.client.post(
        f"/app/memoirs/{s.skating}/consent",
        data={"consent": "members"},
        headers={"Origin": site.origin},
        allow_redirects=False,
    )
    assert consent.status == 303
    async with site.club.ctx.session_factory() as session:
        answer = await session.scalar(select(Rsvp.answer))
        skating = await session.get(Memoir, s.skating)
    assert answer == "maybe" and skating is not None and skating.web_consent == "members"
    await site.text(f"/ru/memoirs/{s.skating}", status=404)  # gone from the public site
    assert "Noted: maybe" in await site.text("/app/home") or "Отмечено" in await site.text(
        "/app/home"
    )
    # Another member's session does not open Anna's unpublished memoir or its files.
    async with site.club.ctx.session_factory() as session:
        session.add(
            Member(telegram_id=502, locale="en", name="Boris", registered_at=NOW, zone="UTC")
        )
        await session.commit()
    site.client.session.cookie_jar.clear()
    await site.sign_in(502)
    await site.text(f"/app/memoirs/{s.pending}", status=404)
    assert (await site.client.get(f"/app/media/{s.secret_photo}.jpg")).status == 404
    forbidden = await site.client.post(
        f"/app/memoirs/{s.pending}/consent",
        data={"consent": "named"},
        headers={"Origin": site.origin},
    )
    assert forbidden.status == 404


async def test_a_session_cookie_cannot_be_forged_or_outlive_its_hour(site: Site) -> None:
    await site.sign_in()
    value = next(c.value for c in site.client.session.cookie_jar if c.key == COOKIE)
    payload, signature = value.split(".")
    site.client.session.cookie_jar.clear()
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for bad in (tampered, "x.y", value + "x"):
        site.client.session.cookie_jar.update_cookies({COOKIE: bad})
        await site.text("/app/home", status=401)
    site.client.session.cookie_jar.update_cookies({COOKIE: value})
    await site.text("/app/home")
    site.club.clock.advance(hours=1, seconds=1)
    await site.text("/app/home", status=401)


async def test_a_search_that_finds_most_memoirs_counts_only_so_far(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collection, "SEARCH_COUNT_CAP", 1)
    html = await site.text("/en/search", params={"q": "зим"})  # «Зимой», and a theme «Зима»
    # The count stops early; the page still lists what it holds.
    assert "Found: more than 1" in html
    assert titles(html) == {"Каток на Сунгари", "中央大街的冬天"}
    assert "Found: 1" in await site.text("/en/search", params={"q": "cathedral"})
