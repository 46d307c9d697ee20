"""The exported book: a ZIP whose pages link only to files it contains, never run a
member's file or words as code, speak the organiser's language, and read well."""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import re
import threading
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archive import export
from archive.book import stylesheet
from archive.export import ExportLabels, build_export
from archive.memoirs import add_media, add_text, create_draft, decide, set_details, submit
from db.engine import create_engine, create_session_factory
from db.media import KIND_DOCUMENT, KIND_PHOTO, KIND_VOICE, MediaStore, StoredBlob
from db.migrate import upgrade_to_head
from db.models import MediaFile, Member, Memoir
from handlers.i18n import build_i18n
from handlers.memoir_review import export_labels
from tests.test_archive_storage import jpeg_with_gps
from tests.test_filetypes import EVIL_HTML, EVIL_SVG

PAGES = re.compile(r"(index|by-theme|by-decade|by-author|memoirs/\d+)\.html")
# Extensions a browser would open as a document that can run script.
RENDERABLE = (".html", ".htm", ".xhtml", ".svg", ".xml", ".js", ".shtml", ".mht")


class Page(HTMLParser):
    """What the checks need from one page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.images: list[dict[str, str | None]] = []
        self.audio: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "img":
            self.images.append(values)
        elif tag == "audio":
            self.audio.append(values)
        elif tag == "a":
            self.links.append(values)
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values["href"] or "")
        elif tag in ("script", "iframe", "object", "embed"):
            self.scripts += 1
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)  # no event handlers

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(zf: zipfile.ZipFile, name: str) -> Page:
    page = Page()
    page.feed(zf.read(name).decode("utf-8"))
    page.close()
    return page


@dataclass
class Archive:
    factory: async_sessionmaker[AsyncSession]
    store: MediaStore
    tmp: Path


@pytest.fixture
async def archive(tmp_path: Path, database_url: str) -> AsyncIterator[Archive]:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    try:
        yield Archive(create_session_factory(engine), MediaStore(tmp_path / "media"), tmp_path)
    finally:
        await engine.dispose()


async def approved_memoir(
    session: AsyncSession,
    author: Member,
    *,
    title: str,
    body: str,
    theme: str | None = None,
    decade: int | None = None,
) -> Memoir:
    memoir = await create_draft(session, author, theme)
    await session.commit()
    await add_text(session, memoir, body)
    await session.commit()
    await set_details(session, memoir, title=title, decade=decade)
    await session.commit()
    await submit(session, memoir)
    await session.commit()
    await decide(session, memoir, approve=True)
    await session.commit()
    return memoir


def old_row(store: MediaStore, data: bytes, extension: str, **columns: object) -> MediaFile:
    """A file stored before types were checked: on disk under the member's extension."""
    sha = hashlib.sha256(data).hexdigest()
    path = f"{sha[:2]}/{sha[2:4]}/{sha}{extension}"
    store.absolute(path).parent.mkdir(parents=True, exist_ok=True)
    store.absolute(path).write_bytes(data)
    return MediaFile(sha256=sha, path=path, size=len(data), **columns)


async def test_export_zip_links_every_photo_and_recording(archive: Archive) -> None:
    store = archive.store
    async with archive.factory() as session:
        anna = Member(telegram_id=1, locale="ru", name="Анна <Ли>")
        session.add(anna)
        await session.commit()
        for n, (theme, decade) in enumerate([("Сунгари", 1930), (None, None), ("Школа", 1940)]):
            memoir = await create_draft(session, anna, theme)
            await session.commit()
            await add_text(session, memoir, f"Текст {n} & <b>не тег</b>")
            await session.commit()
            photo = store.put_bytes(
                jpeg_with_gps(("red", "blue", "green")[n]), kind=KIND_PHOTO, mime_type="image/jpeg"
            )
            shared = store.put_bytes(
                jpeg_with_gps("white"), kind=KIND_PHOTO, mime_type="image/jpeg"
            )
            voice = store.put_bytes(f"OggS {n}".encode(), kind=KIND_VOICE, mime_type="audio/ogg")
            pdf = store.put_bytes(b"%PDF-1.4", kind=KIND_DOCUMENT, mime_type="application/pdf")
            await add_media(session, memoir, photo, caption=f"Фото {n}")
            await session.commit()
            await add_media(session, memoir, shared)  # the same picture in every memoir
            await session.commit()
            await add_media(session, memoir, voice)
            await session.commit()
            await add_media(session, memoir, pdf, original_name="letter.pdf")
            await session.commit()
            await set_details(session, memoir, title=f"Память {n}", decade=decade)
            await session.commit()
            await submit(session, memoir)
            await session.commit()
            if n < 2:
                await decide(session, memoir, approve=True)
                await session.commit()
        # A pending memoir stays out of the book.

    result = await build_export(archive.factory, store, archive.tmp / "out" / "book.zip", batch=1)

    assert result.memoirs == 2
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert {"index.html", "by-theme.html", "by-decade.html", "by-author.html"} <= names
        pages = sorted(n for n in names if n.startswith("memoirs/"))
        assert len(pages) == 2
        images = audio = 0
        for page_name in (n for n in names if n.endswith(".html")):
            page = parse(zf, page_name)
            base = posixpath.dirname(page_name)
            targets = [i["src"] for i in page.images + page.audio]
            targets += [a["href"] for a in page.links] + page.stylesheets
            for target in targets:
                assert target, page_name
                resolved = posixpath.normpath(posixpath.join(base, target))
                assert resolved in names, (page_name, target)
            images += len(page.images)
            audio += len(page.audio)
            for img in page.images:
                assert img["alt"], (page_name, img)  # every photo has a text alternative
            for player in page.audio:
                assert "controls" in player
                # The recording can also be downloaded, for browsers that cannot play it.
                downloads = [a for a in page.links if a["href"] == player["src"]]
                assert downloads and all("download" in a for a in downloads)
        assert images == 4 and audio == 2  # 2 photos on each page, 1 recording each
        assert "&lt;b&gt;" in zf.read(pages[0]).decode()  # member text is escaped
        assert 'name="viewport"' in zf.read("index.html").decode()
        first = parse(zf, "memoirs/1.html")
        assert [i["alt"] for i in first.images] == ["Фото 0", "Photo 2 of «Память 0»"]

        records = json.loads(zf.read("memoirs.json"))
        assert [r["title"] for r in records] == ["Память 0", "Память 1"]
        # The JSON says what it always said, field for field.
        assert set(records[0]) == {
            "id", "title", "author", "theme", "decade", "year", "place", "people", "body",
            "created_at", "media",
        }  # fmt: skip
        assert records[0]["author"] == "Анна <Ли>" and records[0]["theme"] == "Сунгари"
        assert records[0]["decade"] == 1930 and records[0]["body"] == "Текст 0 & <b>не тег</b>"
        assert [(m["kind"], m["mime_type"], m["original_name"]) for m in records[0]["media"]] == [
            ("photo", "image/jpeg", None),
            ("photo", "image/jpeg", None),
            ("voice", "audio/ogg", None),
            ("document", "application/pdf", "letter.pdf"),
        ]
        for record in records:
            for item in record["media"]:
                assert set(item) == {
                    "kind", "file", "mime_type", "size", "sha256", "caption", "original_name",
                }  # fmt: skip
                data = zf.read(item["file"])
                assert hashlib.sha256(data).hexdigest() == item["sha256"]
                assert len(data) == item["size"]
        theme_index = zf.read("by-theme.html").decode()
        assert theme_index.index("Сунгари") < theme_index.index("Without a theme")
        # Shared photo stored once in the ZIP.
        assert len([n for n in names if n.startswith("media/")]) == 2 + 1 + 2 + 1


async def test_members_files_and_words_never_run_in_the_book(archive: Archive) -> None:
    store = archive.store
    evil = "<script>alert('x')</script>"
    async with archive.factory() as session:
        mallory = Member(telegram_id=7, locale="en", name=f"Mallory {evil}")
        session.add(mallory)
        await session.commit()
        memoir = await approved_memoir(
            session,
            mallory,
            title=f"Title {evil}",
            body=f"Body {evil}\n\n<img src=x onerror=alert(1)>",
            theme=f"Theme {evil}",
            decade=1950,
        )
        # Sent today: checked on the way in.
        page = store.put_bytes(
            EVIL_HTML, kind=KIND_DOCUMENT, mime_type="text/html", original_name="evil.html"
        )
        await add_media(session, memoir, page, original_name="evil.html", caption=f"Cap {evil}")
        await session.commit()
        svg = store.put_bytes(EVIL_SVG, kind=KIND_PHOTO, mime_type="image/svg+xml")
        await add_media(session, memoir, svg, original_name="logo.svg")
        await session.commit()
        # Stored before the checks existed: on disk as .html and .svg, typed as the member said.
        session.add_all(
            [
                old_row(
                    store, EVIL_HTML + b"\n", ".html", memoir_id=memoir.id, kind=KIND_DOCUMENT,
                    mime_type="text/html", original_name="old.html",
                ),
                old_row(
                    store, EVIL_SVG + b"\n", ".svg", memoir_id=memoir.id, kind=KIND_PHOTO,
                    mime_type="image/svg+xml", original_name=None,
                ),
                old_row(
                    store, EVIL_HTML + b"\n\n", ".ogg", memoir_id=memoir.id, kind=KIND_VOICE,
                    mime_type="audio/ogg", original_name=None,
                ),
            ]
        )  # fmt: skip
        await session.commit()
    assert page.path.endswith(".bin") and page.mime_type == "application/octet-stream"
    assert svg.path.endswith(".bin")

    result = await build_export(archive.factory, store, archive.tmp / "book.zip")

    with zipfile.ZipFile(result.path) as zf:
        names = zf.namelist()
        media = [n for n in names if n.startswith("media/")]
        assert len(media) == 5 and all(n.endswith(".bin") for n in media)
        for name in names:
            if name.endswith(RENDERABLE):
                assert PAGES.fullmatch(name), name  # only our own pages are documents
        for name in (n for n in names if n.endswith(".html")):
            html = zf.read(name).decode()
            assert "<script" not in html.lower() and "<img src=x" not in html, name
            assert parse(zf, name).scripts == 0  # and no on* attribute (checked in Page)
        memoir_page = parse(zf, f"memoirs/{memoir.id}.html")
        assert memoir_page.images == [] and memoir_page.audio == []  # none was a real one
        files = [a for a in memoir_page.links if (a["href"] or "").startswith("../media/")]
        assert len(files) == 5
        for link in files:
            assert (link["download"] or "").endswith(".bin"), link
        assert {link["download"] for link in files} >= {"evil.bin", "old.bin", "logo.bin"}
        text = "".join(memoir_page.text)
        assert f"Title {evil}" in text and f"Body {evil}" in text and f"Cap {evil}" in text
        assert f"Mallory {evil}" in text  # shown as words, exactly as written
        assert "&lt;script&gt;" in zf.read(f"memoirs/{memoir.id}.html").decode()
        records = json.loads(zf.read("memoirs.json"))
        assert {m["mime_type"] for m in records[0]["media"]} == {"application/octet-stream"}
        assert sorted(m["file"] for m in records[0]["media"]) == sorted(media)


@pytest.mark.parametrize(
    ("locale", "lang", "one", "few", "many", "on_cover"),
    [
        ("ru", "ru", "1 воспоминание", "3 воспоминания", "5 воспоминаний", "2 воспоминания"),
        ("en", "en", "1 memoir", "3 memoirs", "5 memoirs", "2 memoirs"),
        ("zh", "zh-Hans", "1篇回忆", "3篇回忆", "5篇回忆", "2篇回忆"),
    ],
    ids=["ru", "en", "zh"],
)
async def test_book_speaks_the_organisers_language(
    archive: Archive, locale: str, lang: str, one: str, few: str, many: str, on_cover: str
) -> None:
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale(locale):  # as inside an update from the organiser
        labels = export_labels(i18n)
    assert [labels.count(n) for n in (1, 3, 5)] == [one, few, many]
    if locale == "ru":
        assert labels.count(21) == "21 воспоминание"
        assert labels.count(12_000) == "12\xa0000 воспоминаний"
    async with archive.factory() as session:
        author = Member(telegram_id=3, locale=locale, name="Вера")
        session.add(author)
        await session.commit()
        for n in range(2):
            await approved_memoir(session, author, title=f"Зима {n}", body="Снег.", decade=1930)
        memoir = await create_draft(session, author)
        await session.commit()
        photo = store_photo(archive.store)
        await add_media(session, memoir, photo)
        await session.commit()
        await set_details(session, memoir, title="Без подписи")
        await session.commit()
        await submit(session, memoir)  # pending: not in the book
        await session.commit()

    result = await build_export(archive.factory, archive.store, archive.tmp / "b.zip", labels)

    with zipfile.ZipFile(result.path) as zf:
        pages = [n for n in zf.namelist() if n.endswith(".html")]
        assert len(pages) == 6
        for name in pages:
            page = parse(zf, name)
            assert page.lang == lang, name  # axe-core html-has-lang / html-lang-valid
        cover = parse(zf, "index.html")
        cover_text = "".join(cover.text)
        assert labels.club in cover_text and labels.book in cover_text
        assert on_cover in cover_text  # two approved; the pending one is not counted
        contents = [a["href"] for a in cover.links if (a["href"] or "").startswith("memoirs/")]
        assert contents == [f"memoirs/{n}.html" for n in (1, 2)]
        assert all(href in zf.namelist() for href in contents)
        decade_page = zf.read("by-decade.html").decode()
        assert labels.decade.format(decade=1930) in decade_page


def store_photo(store: MediaStore) -> StoredBlob:
    return store.put_bytes(jpeg_with_gps("navy"), kind=KIND_PHOTO, mime_type="image/jpeg")


async def test_a_missing_file_is_said_not_linked(archive: Archive) -> None:
    store = archive.store
    async with archive.factory() as session:
        author = Member(telegram_id=4, locale="en", name="Ivan")
        session.add(author)
        await session.commit()
        memoir = await approved_memoir(session, author, title="Lost", body="Gone.")
        lost = store.put_bytes(jpeg_with_gps("olive"), kind=KIND_PHOTO, mime_type="image/jpeg")
        await add_media(session, memoir, lost, caption="The house")
        await session.commit()
    store.absolute(lost.path).unlink()  # disk trouble; the start-up check reports it

    labels = ExportLabels(missing_file="File missing.")
    result = await build_export(archive.factory, store, archive.tmp / "c.zip", labels)

    assert result.files == 0
    with zipfile.ZipFile(result.path) as zf:
        page = parse(zf, f"memoirs/{memoir.id}.html")
        assert page.images == [] and "File missing." in "".join(page.text)
        assert "The house" in "".join(page.text)
        [record] = json.loads(zf.read("memoirs.json"))
        assert record["media"][0]["file"] is None


async def test_an_empty_archive_is_a_book_that_says_so(archive: Archive) -> None:
    result = await build_export(archive.factory, archive.store, archive.tmp / "e.zip")
    assert result.memoirs == 0
    with zipfile.ZipFile(result.path) as zf:
        assert json.loads(zf.read("memoirs.json")) == []
        cover = "".join(parse(zf, "index.html").text)
        assert "0 memoirs" in cover and ExportLabels().no_memoirs in cover


def test_type_is_large_enough_to_read() -> None:
    body = re.search(r"\nbody\s*\{([^}]*)\}", stylesheet().decode())
    assert body is not None
    size = re.search(r"font-size:\s*([\d.]+)rem", body.group(1))
    assert size is not None and float(size.group(1)) * 16 >= 18


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_text_colour_has_strong_contrast() -> None:
    css = stylesheet().decode()
    background = re.search(r"background:\s*(#[0-9a-f]{6})", css)
    assert background is not None
    colours = re.findall(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", css)
    assert len(colours) >= 4  # body text, links, visited links, quieter lines
    paper = _luminance(background.group(1))
    for colour in colours:
        ratio = (paper + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 7, (colour, ratio)  # WCAG AAA for body text


async def test_a_cancelled_export_leaves_no_file(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with archive.factory() as session:
        author = Member(telegram_id=5, locale="en", name="Lena")
        session.add(author)
        await session.commit()
        for n in range(3):
            await approved_memoir(session, author, title=f"Spring {n}", body="Ice.")
    written, release = threading.Event(), threading.Event()
    add = export._BookWriter.add

    def add_then_wait(self: export._BookWriter, entry: object, first: bool) -> None:
        add(self, entry, first)  # type: ignore[arg-type]
        written.set()
        release.wait(5)

    monkeypatch.setattr(export._BookWriter, "add", add_then_wait)
    destination = archive.tmp / "cancelled.zip"
    task = asyncio.create_task(build_export(archive.factory, archive.store, destination, batch=1))
    assert await asyncio.to_thread(written.wait, 5)
    assert destination.exists()  # half written
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    # The writer thread stops at its next wait for rows and removes the half-written book.
    for _ in range(100):
        if not destination.exists():
            break
        await asyncio.sleep(0.05)
    assert not destination.exists()
