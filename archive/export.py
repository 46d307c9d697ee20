"""The club's book: one ZIP with a static HTML site and `memoirs.json`.

Streamed: memoirs are read in batches and written one at a time, media files are copied
from disk into the ZIP in chunks, indexes are written row by row from ordered queries.
Memory stays flat however big the archive grows (see bench/archive.py).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from archive.memoirs import APPROVED
from db.media import KIND_PHOTO, KIND_VOICE, MediaStore
from db.models import Memoir

BATCH = 200
# Already-compressed media gain nothing from deflate; text does.
STORED_KINDS = (KIND_PHOTO, KIND_VOICE)

CSS = (
    "body{font-family:Georgia,serif;max-width:42rem;margin:0 auto;padding:1rem;"
    "line-height:1.55;color:#222;background:#fdfbf7}"
    "img{max-width:100%;height:auto;display:block;margin:.5rem 0}"
    "audio{width:100%}figure{margin:1rem 0}figcaption{color:#555;font-size:.9rem}"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.5rem}"
    ".meta{color:#555}li{margin:.3rem 0}p{white-space:pre-wrap}"
)


@dataclass(frozen=True)
class ExportLabels:
    """Words of the book; the handler passes them translated into the organiser's language."""

    book: str = "Beloved Harbin: memoirs"
    by_theme: str = "By theme"
    by_decade: str = "By decade"
    by_author: str = "By author"
    no_theme: str = "Without a theme"
    no_period: str = "Time unknown"
    anonymous: str = "Anonymous"
    untitled: str = "Untitled"
    contents: str = "Contents"
    people: str = "People"
    document: str = "Document"
    decade: str = "{decade}s"


@dataclass
class ExportResult:
    path: Path
    memoirs: int = 0
    files: int = 0
    size: int = 0


@dataclass
class _Entry:
    """A memoir detached from the session: what one page and one JSON object need."""

    id: int
    title: str
    author: str | None
    theme: str | None
    decade: int | None
    year: int | None
    place: str | None
    people: str | None
    body: str | None
    created_at: str
    media: list[dict[str, Any]] = field(default_factory=list)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def media_name(path: str) -> str:
    return "media/" + path.rsplit("/", 1)[-1]


def _entry(memoir: Memoir, labels: ExportLabels) -> _Entry:
    return _Entry(
        id=memoir.id,
        title=memoir.title or labels.untitled,
        author=memoir.author_name,
        theme=memoir.theme,
        decade=memoir.decade,
        year=memoir.year,
        place=memoir.place,
        people=memoir.people,
        body=memoir.body,
        created_at=memoir.created_at.isoformat(),
        media=[
            {
                "kind": m.kind,
                "file": media_name(m.path),
                "path": m.path,
                "mime_type": m.mime_type,
                "size": m.size,
                "sha256": m.sha256,
                "caption": m.caption,
                "original_name": m.original_name,
            }
            for m in memoir.media
        ],
    )


def _period(decade: int | None, year: int | None, labels: ExportLabels) -> str:
    if year:
        return str(year)
    return labels.decade.format(decade=decade) if decade else labels.no_period


def memoir_html(entry: _Entry, labels: ExportLabels) -> str:
    meta = " · ".join(
        escape(p)
        for p in (
            entry.author or labels.anonymous,
            _period(entry.decade, entry.year, labels),
            entry.place,
            entry.theme,
        )
        if p
    )
    parts = [
        f'<p><a href="../index.html">← {escape(labels.contents)}</a></p>',
        f"<h1>{escape(entry.title)}</h1>",
        f'<div class="meta">{meta}</div>',
    ]
    if entry.people:
        parts.append(f'<div class="meta">{escape(labels.people)}: {escape(entry.people)}</div>')
    if entry.body:
        parts.append(f"<p>{escape(entry.body)}</p>")
    for item in entry.media:
        src = "../" + escape(item["file"], quote=True)
        caption = f"<figcaption>{escape(item['caption'])}</figcaption>" if item["caption"] else ""
        if item["kind"] == KIND_PHOTO:
            body = f'<img src="{src}" alt="{escape(item["caption"] or "", quote=True)}" loading="lazy">'
        elif item["kind"] == KIND_VOICE:
            body = (
                f'<audio controls preload="none" src="{src}">'
                f'<a href="{src}">{escape(item["file"])}</a></audio>'
            )
        else:
            name = item["original_name"] or labels.document
            body = f'<a href="{src}">📄 {escape(name)}</a>'
        parts.append(f"<figure>{body}{caption}</figure>")
    return _page(entry.title, "\n".join(parts))


class _BookWriter:
    """Synchronous ZIP writing; each call runs in a worker thread."""

    def __init__(self, zf: zipfile.ZipFile, store: MediaStore, json_out: IO[str]) -> None:
        self.zf = zf
        self.store = store
        self.json_out = json_out
        self.first_json = True
        self.files = 0

    def write_batch(self, entries: list[_Entry], labels: ExportLabels) -> None:
        for entry in entries:
            for item in entry.media:
                if item["file"] in self.zf.NameToInfo:
                    continue  # the same content in two memoirs: one copy in the book
                source = self.store.absolute(item["path"])
                if not source.exists():
                    continue  # reported by the start-up check; the page still renders
                compress = zipfile.ZIP_STORED if item["kind"] in STORED_KINDS else None
                self.zf.write(source, item["file"], compress_type=compress)
                self.files += 1
            self.zf.writestr(f"memoirs/{entry.id}.html", memoir_html(entry, labels))
            record = {k: v for k, v in entry.__dict__.items() if k != "media"}
            record["media"] = [{k: v for k, v in m.items() if k != "path"} for m in entry.media]
            self.json_out.write(("[\n" if self.first_json else ",\n") + json.dumps(record))
            self.first_json = False


IndexKey = Callable[[Any], str]


async def _write_index(
    session: AsyncSession,
    zf: zipfile.ZipFile,
    name: str,
    heading: str,
    order: tuple[Any, ...],
    group_of: IndexKey,
    labels: ExportLabels,
) -> None:
    """One index page, written row by row as the ordered query streams."""
    columns = (
        Memoir.id,
        Memoir.title,
        Memoir.author_name,
        Memoir.theme,
        Memoir.decade,
        Memoir.year,
    )
    query = select(*columns).where(Memoir.status == APPROVED).order_by(*order, Memoir.id)
    with zf.open(name, "w") as raw:
        out = _Utf8(raw)
        out.write(_page(heading, "").split("\n</body>")[0])
        out.write(f'<p><a href="index.html">← {escape(labels.contents)}</a></p>')
        out.write(f"<h1>{escape(heading)}</h1>")
        current: str | None = None
        result = await session.stream(query)
        async for row in result:
            group = group_of(row)
            if group != current:
                out.write(
                    ("</ul>" if current is not None else "") + f"<h2>{escape(group)}</h2><ul>"
                )
                current = group
            title = escape(row.title or labels.untitled)
            extra = " · ".join(
                escape(p)
                for p in (
                    row.author_name or labels.anonymous,
                    _period(row.decade, row.year, labels),
                )
            )
            out.write(f'<li><a href="memoirs/{row.id}.html">{title}</a> — {extra}</li>\n')
        out.write(("</ul>" if current is not None else "") + "\n</body></html>\n")


class _Utf8:
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def write(self, text: str) -> None:
        self.raw.write(text.encode("utf-8"))


async def build_export(
    session_factory: async_sessionmaker[AsyncSession],
    store: MediaStore,
    destination: Path,
    labels: ExportLabels | None = None,
    *,
    batch: int = BATCH,
) -> ExportResult:
    """Write the book of approved memoirs to `destination` (a .zip path)."""
    labels = labels or ExportLabels()
    result = ExportResult(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
        tempfile.TemporaryFile("w+", encoding="utf-8", dir=destination.parent) as json_out,
    ):
        writer = _BookWriter(zf, store, json_out)
        last_id = 0
        while True:
            # A fresh session per batch: the identity map does not grow with the archive.
            async with session_factory() as session:
                memoirs = list(
                    await session.scalars(
                        select(Memoir)
                        .where(Memoir.status == APPROVED, Memoir.id > last_id)
                        .order_by(Memoir.id)
                        .limit(batch)
                        .options(selectinload(Memoir.media))
                    )
                )
                entries = [_entry(m, labels) for m in memoirs]
            if not entries:
                break
            await asyncio.to_thread(writer.write_batch, entries, labels)
            result.memoirs += len(entries)
            last_id = entries[-1].id
        json_out.write("[]\n" if writer.first_json else "\n]\n")
        json_out.flush()
        json_out.seek(0)
        with zf.open("memoirs.json", "w") as raw:
            while chunk := json_out.read(1 << 16):
                raw.write(chunk.encode("utf-8"))

        async with session_factory() as session:
            await _write_index(
                session,
                zf,
                "by-theme.html",
                labels.by_theme,
                (Memoir.theme.is_(None), Memoir.theme),
                lambda r: r.theme or labels.no_theme,
                labels,
            )
            await _write_index(
                session,
                zf,
                "by-decade.html",
                labels.by_decade,
                (Memoir.decade.is_(None), Memoir.decade, Memoir.year),
                lambda r: labels.decade.format(decade=r.decade) if r.decade else labels.no_period,
                labels,
            )
            await _write_index(
                session,
                zf,
                "by-author.html",
                labels.by_author,
                (Memoir.author_name.is_(None), Memoir.author_name),
                lambda r: r.author_name or labels.anonymous,
                labels,
            )
        links = "".join(
            f'<li><a href="{href}">{escape(text)}</a></li>'
            for href, text in (
                ("by-theme.html", labels.by_theme),
                ("by-decade.html", labels.by_decade),
                ("by-author.html", labels.by_author),
            )
        )
        zf.writestr(
            "index.html",
            _page(
                labels.book,
                f"<h1>{escape(labels.book)}</h1><p>{result.memoirs}</p><ul>{links}</ul>",
            ),
        )
        result.files = writer.files
    result.size = (await asyncio.to_thread(destination.stat)).st_size
    return result
