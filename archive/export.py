"""The club's book: one ZIP with a static HTML site and `memoirs.json`.

The site: `index.html` (the cover: club, title, how many memoirs, the indexes and the
contents), a page per memoir under `memoirs/`, indexes by theme, decade and author, the
files under `media/`, one stylesheet. Pages come from the templates in archive/book.py.
With a proceedings source (the programme domain's, passed in by the caller), the book
also has `proceedings/`: one chapter per meeting with its summary, recording and talks
and their materials, and `proceedings.json`.

Members' files are data: each is named by its content hash and the extension its bytes
prove (db/filetypes.py), so an uploaded `evil.html` sits in the book as `<sha>.bin`. Only
checked pictures and recordings are shown in a page; every other file is a download link.

Memory does not grow with the archive (issue 15; bench/archive.py measures it):
- memoirs are read in batches, each in a fresh session, and written one at a time; the
  JSON goes through a temporary file; indexes and contents stream from ordered queries and
  the templates render them as a stream of text;
- the ZIP's central directory is spooled to disk (archive/zipstream.py) instead of a
  `ZipInfo` per entry held until the end;
- the names already copied (the same photo in two memoirs is copied once) live in a
  temporary SQLite file, and which memoirs made it into the book is a bitmap, a bit per id.

All the writing runs in one worker thread, which asks the event loop for each batch of
rows: the bot stays responsive, and the database is used through the app's async engine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from archive.book import (
    ChapterView,
    ExportLabels,
    FileView,
    ListItem,
    MemoirView,
    TalkView,
    list_item,
    meta_line,
    paragraphs,
    period,
    render_chapter,
    render_cover,
    render_listing,
    render_memoir,
    render_proceedings,
    stylesheet,
)
from archive.memoirs import APPROVED
from archive.zipstream import StreamingZip
from db.filetypes import AUDIO, HEAD_BYTES, IMAGE, FileType, download_name, sniff
from db.media import KIND_PHOTO, KIND_VOICE, MediaStore
from db.models import Memoir

__all__ = ["BATCH", "ExportLabels", "ExportResult", "ProceedingsSource", "build_export"]

BATCH = 200
LISTING_BATCH = 1000
# How long the writer thread waits for the event loop before checking for cancellation.
_POLL_SECONDS = 0.5

T = TypeVar("T")


@dataclass
class ExportResult:
    path: Path
    memoirs: int = 0
    files: int = 0
    size: int = 0
    chapters: int = 0


class MaterialLike(Protocol):
    kind: str
    path: str
    mime_type: str
    size: int
    sha256: str
    caption: str | None
    original_name: str | None


class TalkLike(Protocol):
    number: int
    title: str
    abstract: str | None
    speaker: str | None
    minutes: int

    @property
    def materials(self) -> Sequence[MaterialLike]: ...


class ChapterLike(Protocol):
    """A meeting of the proceedings (programme.queries.ProgrammeView satisfies it)."""

    meeting_id: int
    title: str | None
    theme: str | None
    starts_at: datetime
    recording_link: str | None
    summary: str | None

    @property
    def slots(self) -> Sequence[TalkLike]: ...


# session -> the chapters, oldest first (the programme domain's, wired in by the caller).
ProceedingsSource = Callable[[AsyncSession], Awaitable[Sequence[ChapterLike]]]


@dataclass(frozen=True)
class _Media:
    kind: str
    path: str
    mime_type: str
    size: int
    sha256: str
    caption: str | None
    original_name: str | None


@dataclass(frozen=True)
class _Entry:
    """A memoir detached from the session: what one page and one JSON object need."""

    id: int
    title: str | None
    author: str | None
    theme: str | None
    decade: int | None
    year: int | None
    place: str | None
    people: str | None
    body: str | None
    created_at: str
    media: tuple[_Media, ...]


def _entry(memoir: Memoir) -> _Entry:
    return _Entry(
        id=memoir.id,
        title=memoir.title,
        author=memoir.author_name,
        theme=memoir.theme,
        decade=memoir.decade,
        year=memoir.year,
        place=memoir.place,
        people=memoir.people,
        body=memoir.body,
        created_at=memoir.created_at.isoformat(),
        media=tuple(
            _Media(
                kind=m.kind,
                path=m.path,
                mime_type=m.mime_type,
                size=m.size,
                sha256=m.sha256,
                caption=m.caption,
                original_name=m.original_name,
            )
            for m in memoir.media
        ),
    )


# ---------------------------------------------------------------- reading, from the thread


class _Cancelled(Exception):
    """The export was cancelled while the writer thread waited for rows."""


_LISTING_COLUMNS = (
    Memoir.id,
    Memoir.title,
    Memoir.author_name,
    Memoir.theme,
    Memoir.decade,
    Memoir.year,
)


class _Rows:
    """The writer thread's view of the database: each call hands a query to the event
    loop and waits for its batch, so rows arrive a batch at a time, never all at once."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        loop: asyncio.AbstractEventLoop,
        batch: int,
    ) -> None:
        self._factory = session_factory
        self._loop = loop
        self._batch = batch
        self.cancelled = threading.Event()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.cancelled.is_set():
            coro.close()
            raise _Cancelled
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        while True:
            try:
                return future.result(timeout=_POLL_SECONDS)
            except TimeoutError:
                if self.cancelled.is_set():
                    future.cancel()
                    raise _Cancelled from None

    def memoirs(self) -> Iterator[_Entry]:
        """Approved memoirs in id order, a fresh session per batch (the identity map
        does not grow with the archive)."""
        last_id = 0
        while entries := self._call(self._memoir_batch(last_id)):
            yield from entries
            last_id = entries[-1].id

    async def _memoir_batch(self, after: int) -> list[_Entry]:
        async with self._factory() as session:
            memoirs = await session.scalars(
                select(Memoir)
                .where(Memoir.status == APPROVED, Memoir.id > after)
                .order_by(Memoir.id)
                .limit(self._batch)
                .options(selectinload(Memoir.media))
            )
            return [_entry(m) for m in memoirs]

    def listing(self, order: tuple[Any, ...]) -> Iterator[Row[Any]]:
        """Id, title, author, theme, decade and year of approved memoirs, in `order`."""
        stream = self._listing(order)
        try:
            while (part := self._call(_next_or_none(stream))) is not None:
                yield from part
        finally:
            if not self.cancelled.is_set():
                self._call(stream.aclose())

    async def _listing(self, order: tuple[Any, ...]) -> AsyncIterator[list[Row[Any]]]:
        query = (
            select(*_LISTING_COLUMNS)
            .where(Memoir.status == APPROVED)
            .order_by(*order, Memoir.id)
            .execution_options(yield_per=LISTING_BATCH)
        )
        async with self._factory() as session:
            result = await session.stream(query)
            async for part in result.partitions(LISTING_BATCH):
                yield list(part)


async def _next_or_none(stream: AsyncIterator[T]) -> T | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


# ---------------------------------------------------------------- bookkeeping on disk


class _InBook:
    """Ids of the memoirs written into the book, a bit each (100,000 ids: 12.5 KB).

    Indexes and contents are separate queries; a memoir approved while the export runs
    would be listed there without a page. Lines are kept only for ids set here."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self.count = 0

    def add(self, memoir_id: int) -> None:
        byte = memoir_id >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits)))
        self._bits[byte] |= 1 << (memoir_id & 7)
        self.count += 1

    def __contains__(self, memoir_id: int) -> bool:
        byte = memoir_id >> 3
        return byte < len(self._bits) and bool(self._bits[byte] >> (memoir_id & 7) & 1)


class _CopiedNames:
    """Names already copied into the ZIP, in a private temporary SQLite database (SQLite
    keeps a small cache and spills the rest to a file): as a Python set, a quarter of a
    million names would be some 30 MB."""

    def __init__(self) -> None:
        # "" opens a temporary on-disk database that SQLite deletes when it is closed.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("CREATE TABLE copied (name TEXT PRIMARY KEY) WITHOUT ROWID")

    def claim(self, name: str) -> bool:
        """True the first time a name is claimed."""
        cursor = self._db.execute("INSERT OR IGNORE INTO copied VALUES (?)", (name,))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()


# ---------------------------------------------------------------- writing


def _write_page(zf: StreamingZip, name: str, chunks: Iterable[str]) -> None:
    with zf.open(name) as entry:
        for chunk in chunks:
            entry.write_text(chunk)


class _BookWriter:
    """Pages, files and JSON records of the memoirs, one memoir at a time."""

    def __init__(
        self,
        zf: StreamingZip,
        store: MediaStore,
        labels: ExportLabels,
        copied: _CopiedNames,
        json_out: IO[str],
    ) -> None:
        self.zf = zf
        self.root = os.fspath(store.root)
        self.labels = labels
        self.copied = copied
        self.json_out = json_out
        self.files = 0

    def _files(
        self, media: Iterable[_Media | MaterialLike], title: str
    ) -> tuple[list[FileView], list[dict[str, Any]]]:
        """Copy each file into the book; its view on a page and its JSON record."""
        labels = self.labels
        views: list[FileView] = []
        records: list[dict[str, Any]] = []
        photos = recordings = 0
        for item in media:
            file_type, name = self._place(item)
            records.append(
                {
                    "kind": item.kind,
                    "file": name,
                    "mime_type": file_type.mime_type if file_type else item.mime_type,
                    "size": item.size,
                    "sha256": item.sha256,
                    "caption": item.caption,
                    "original_name": item.original_name,
                }
            )
            if file_type is None or name is None:
                views.append(FileView("missing", caption=item.caption))
            elif item.kind == KIND_PHOTO and file_type.family == IMAGE:
                photos += 1
                alt = item.caption or labels.photo_alt.format(number=photos, title=title)
                views.append(FileView("image", name, alt, item.caption))
            elif item.kind == KIND_VOICE and file_type.family == AUDIO:
                recordings += 1
                alt = labels.recording_alt.format(number=recordings, title=title)
                saved_as = download_name(item.original_name, file_type, labels.recording_name)
                views.append(FileView("audio", name, alt, item.caption, saved_as))
            else:
                saved_as = download_name(item.original_name, file_type, labels.document)
                views.append(FileView("download", name, "", item.caption, saved_as))
        return views, records

    def add_chapter(self, chapter: ChapterLike) -> tuple[ListItem, dict[str, Any]]:
        """A meeting's page of the proceedings; its contents line and JSON record."""
        labels = self.labels
        title = chapter.title or chapter.theme or labels.day(chapter.starts_at)
        talks: list[TalkView] = []
        records: list[dict[str, Any]] = []
        for slot in chapter.slots:
            files, file_records = self._files(slot.materials, slot.title)
            talks.append(
                TalkView(
                    number=slot.number,
                    title=slot.title,
                    meta=meta_line(
                        (slot.speaker or labels.speaker_unknown, labels.minutes(slot.minutes))
                    ),
                    paragraphs=paragraphs(slot.abstract),
                    files=files,
                )
            )
            records.append(
                {
                    "number": slot.number,
                    "title": slot.title,
                    "speaker": slot.speaker,
                    "minutes": slot.minutes,
                    "abstract": slot.abstract,
                    "materials": file_records,
                }
            )
        link = chapter.recording_link or ""
        recording = link if link.startswith(("https://", "http://")) else None
        meta = meta_line((labels.day(chapter.starts_at), chapter.theme if chapter.title else None))
        view = ChapterView(
            id=chapter.meeting_id,
            title=title,
            meta=meta,
            summary=paragraphs(chapter.summary),
            recording=recording,
            talks=talks,
        )
        _write_page(self.zf, f"proceedings/{chapter.meeting_id}.html", render_chapter(view, labels))
        record = {
            "meeting": chapter.meeting_id,
            "title": title,
            "starts_at": chapter.starts_at.isoformat(),
            "summary": chapter.summary,
            "recording": recording,
            "talks": records,
        }
        return ListItem(chapter.meeting_id, title, "— " + meta), record

    def add(self, entry: _Entry, first: bool) -> None:
        labels = self.labels
        title = entry.title or labels.untitled
        views, records = self._files(entry.media, title)
        view = MemoirView(
            id=entry.id,
            title=title,
            meta=meta_line(
                (
                    entry.author or labels.anonymous,
                    period(entry.decade, entry.year, labels),
                    entry.place,
                    entry.theme,
                )
            ),
            people=entry.people,
            paragraphs=paragraphs(entry.body),
            files=views,
        )
        _write_page(self.zf, f"memoirs/{entry.id}.html", render_memoir(view, labels))
        record = {
            "id": entry.id,
            "title": title,
            "author": entry.author,
            "theme": entry.theme,
            "decade": entry.decade,
            "year": entry.year,
            "place": entry.place,
            "people": entry.people,
            "body": entry.body,
            "created_at": entry.created_at,
            "media": records,
        }
        self.json_out.write(("[\n" if first else ",\n") + json.dumps(record))

    def _place(self, item: _Media | MaterialLike) -> tuple[FileType | None, str | None]:
        """Copy a file into the ZIP (once per content and type) under a name whose
        extension its bytes prove; (None, None) when the file is gone from the store."""
        try:
            # A plain string path: pathlib interns every part it parses, and a quarter of a
            # million hash names once grew the interpreter's table of interned strings.
            handle = open(os.path.join(self.root, item.path), "rb")  # noqa: SIM115
        except FileNotFoundError:
            return None, None  # reported by the start-up check; the page says so
        with handle:
            head = handle.read(HEAD_BYTES)
            file_type = sniff(head, item.mime_type)
            name = f"media/{item.sha256}{file_type.extension}"
            if self.copied.claim(name):
                self.zf.write_file(
                    name,
                    handle,
                    os.fstat(handle.fileno()).st_size,
                    # Pictures and sound are compressed already; deflate gains nothing.
                    compress=file_type.family not in (IMAGE, AUDIO),
                    head=head,
                )
                self.files += 1
        return file_type, name


IndexKey = Callable[[Row[Any], ExportLabels], str]

_INDEXES: tuple[tuple[str, str, tuple[Any, ...], IndexKey], ...] = (
    (
        "by-theme.html",
        "by_theme",
        (Memoir.theme.is_(None), Memoir.theme),
        lambda row, labels: row.theme or labels.no_theme,
    ),
    (
        "by-decade.html",
        "by_decade",
        (Memoir.decade.is_(None), Memoir.decade, Memoir.year),
        lambda row, labels: (
            labels.decade.format(decade=row.decade) if row.decade else labels.no_period
        ),
    ),
    (
        "by-author.html",
        "by_author",
        (Memoir.author_name.is_(None), Memoir.author_name),
        lambda row, labels: row.author_name or labels.anonymous,
    ),
)


def _groups(
    rows: Iterator[Row[Any]], key: IndexKey, labels: ExportLabels, in_book: _InBook
) -> Iterator[tuple[str, Iterator[ListItem]]]:
    kept = (row for row in rows if row.id in in_book)
    for group, members in itertools.groupby(kept, key=lambda row: key(row, labels)):
        yield group, (list_item(row, labels) for row in members)


def _write_proceedings(
    writer: _BookWriter, zf: StreamingZip, chapters: Sequence[ChapterLike]
) -> None:
    contents, records = [], []
    for chapter in chapters:
        item, record = writer.add_chapter(chapter)
        contents.append(item)
        records.append(record)
    _write_page(zf, "proceedings/index.html", render_proceedings(contents, writer.labels))
    zf.write_bytes(
        "proceedings.json", (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode()
    )


def _write_book(
    rows: _Rows,
    store: MediaStore,
    destination: Path,
    labels: ExportLabels,
    chapters: Sequence[ChapterLike] = (),
) -> ExportResult:
    result = ExportResult(destination)
    in_book = _InBook()
    copied = _CopiedNames()
    try:
        with (
            StreamingZip(destination, spool_dir=destination.parent) as zf,
            tempfile.TemporaryFile("w+", encoding="utf-8", dir=destination.parent) as json_out,
        ):
            zf.write_bytes("book.css", stylesheet())
            writer = _BookWriter(zf, store, labels, copied, json_out)
            for entry in rows.memoirs():
                writer.add(entry, first=in_book.count == 0)
                in_book.add(entry.id)
            json_out.write("[]\n" if in_book.count == 0 else "\n]\n")
            json_out.seek(0)
            with zf.open("memoirs.json") as out:
                while chunk := json_out.read(1 << 16):
                    out.write_text(chunk)

            for name, heading, order, key in _INDEXES:
                groups = _groups(rows.listing(order), key, labels, in_book)
                _write_page(zf, name, render_listing(getattr(labels, heading), groups, labels))
            contents = (list_item(row, labels) for row in rows.listing(()) if row.id in in_book)
            indexes = [(name, getattr(labels, heading)) for name, heading, _o, _k in _INDEXES]
            if chapters:
                _write_proceedings(writer, zf, chapters)
                indexes.append(("proceedings/index.html", labels.proceedings))
            _write_page(zf, "index.html", render_cover(in_book.count, indexes, contents, labels))
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    finally:
        copied.close()
    result.memoirs = in_book.count
    result.chapters = len(chapters)
    result.files = writer.files
    result.size = destination.stat().st_size
    return result


async def build_export(
    session_factory: async_sessionmaker[AsyncSession],
    store: MediaStore,
    destination: Path,
    labels: ExportLabels | None = None,
    *,
    batch: int = BATCH,
    proceedings: ProceedingsSource | None = None,
) -> ExportResult:
    """Write the book of approved memoirs to `destination` (a .zip path), and with a
    proceedings source, the proceedings (a few dozen meetings a year: read at once)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    chapters: Sequence[ChapterLike] = ()
    if proceedings is not None:
        async with session_factory() as session:
            chapters = await proceedings(session)
    rows = _Rows(session_factory, asyncio.get_running_loop(), batch)
    try:
        return await asyncio.to_thread(
            _write_book, rows, store, destination, labels or ExportLabels(), chapters
        )
    except asyncio.CancelledError:
        rows.cancelled.set()  # the thread stops at its next wait and removes the file
        raise
