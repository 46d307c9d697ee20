"""The exported book: a ZIP whose HTML links only to files it contains."""

from __future__ import annotations

import json
import posixpath
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from archive.export import build_export
from archive.memoirs import add_media, add_text, create_draft, decide, set_details, submit
from db.engine import create_engine, create_session_factory
from db.media import KIND_DOCUMENT, KIND_PHOTO, KIND_VOICE, MediaStore
from db.migrate import upgrade_to_head
from db.models import Member
from tests.test_archive_storage import jpeg_with_gps


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.audio: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("src"):
            self.images.append(values["src"] or "")
        elif tag == "audio" and values.get("src"):
            self.audio.append(values["src"] or "")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


async def test_export_zip_links_every_photo_and_recording(
    tmp_path: Path, database_url: str
) -> None:
    url = database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    store = MediaStore(tmp_path / "media")
    try:
        async with factory() as session:
            anna = Member(telegram_id=1, locale="ru", name="Анна <Ли>")
            session.add(anna)
            await session.commit()
            for n, (theme, decade) in enumerate([("Сунгари", 1930), (None, None), ("Школа", 1940)]):
                memoir = await create_draft(session, anna, theme)
                await session.commit()
                await add_text(session, memoir, f"Текст {n} & <b>не тег</b>")
                await session.commit()
                photo = store.put_bytes(
                    jpeg_with_gps(("red", "blue", "green")[n]),
                    kind=KIND_PHOTO,
                    mime_type="image/jpeg",
                )
                shared = store.put_bytes(
                    jpeg_with_gps("white"), kind=KIND_PHOTO, mime_type="image/jpeg"
                )
                voice = store.put_bytes(
                    f"OggS {n}".encode(), kind=KIND_VOICE, mime_type="audio/ogg"
                )
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

        result = await build_export(factory, store, tmp_path / "out" / "book.zip", batch=1)
    finally:
        await engine.dispose()

    assert result.memoirs == 2
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        assert {"index.html", "by-theme.html", "by-decade.html", "by-author.html"} <= names
        pages = sorted(n for n in names if n.startswith("memoirs/"))
        assert len(pages) == 2
        images = audio = 0
        for page in names:
            if not page.endswith(".html"):
                continue
            parser = Links()
            parser.feed(zf.read(page).decode("utf-8"))
            base = posixpath.dirname(page)
            for target in parser.images + parser.audio + parser.links:
                resolved = posixpath.normpath(posixpath.join(base, target))
                assert resolved in names, (page, target)
            images += len(parser.images)
            audio += len(parser.audio)
        assert images == 4 and audio == 2  # 2 photos on each page, 1 recording each
        assert "&lt;b&gt;" in zf.read(pages[0]).decode()  # member text is escaped
        assert 'name="viewport"' in zf.read("index.html").decode()
        records = json.loads(zf.read("memoirs.json"))
        assert [r["title"] for r in records] == ["Память 0", "Память 1"]
        for record in records:
            for item in record["media"]:
                assert item["file"] in names
        theme_index = zf.read("by-theme.html").decode()
        assert theme_index.index("Сунгари") < theme_index.index("Without a theme")
        # Shared photo stored once in the ZIP.
        assert len([n for n in names if n.startswith("media/")]) == 2 + 1 + 2 + 1
