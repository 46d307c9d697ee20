"""The collection as the web shows it: who may see which memoir and file, listings with
facets, and the author's consent to the public website.

Two audiences:
- PUBLIC, the open website: approved memoirs whose author agreed to the public website
  (`web_consent` "named" or "anonymous"); the author is shown only for "named".
- MEMBERS, the members' Mini App: every approved memoir, with the author's name as the
  club's archive keeps it, plus, for each member, their own memoirs in any state.

Nothing here is Telegram or HTTP; web/ renders what these functions return.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from archive import search
from archive.memoirs import APPROVED, EARLIEST_YEAR, LATEST_YEAR, MAX_FIELD, normalize
from db.filetypes import ALLOWED, AUDIO, IMAGE, declared_type
from db.media import KIND_PHOTO, KIND_VOICE
from db.models import MediaFile, Memoir

MEMBERS_ONLY, NAMED, ANONYMOUS = "members", "named", "anonymous"
CONSENTS = (MEMBERS_ONLY, NAMED, ANONYMOUS)
ON_THE_WEB = (NAMED, ANONYMOUS)
# Matches counted for a search at most: a word in most memoirs would otherwise cost a
# look at every one of them just to print the number ("more than 1,000" says enough).
SEARCH_COUNT_CAP = 1000
EXCERPT = 280  # characters of the text shown on a card
FACET_LIMIT = 40  # places and themes listed on the collection page (the most used first)


class Audience(enum.Enum):
    PUBLIC = "public"
    MEMBERS = "members"


def visible_to(audience: Audience, member_id: int | None = None) -> ColumnElement[bool]:
    """Which memoirs this audience sees; with `member_id`, their own ones in any state."""
    if audience is Audience.PUBLIC:
        shown = and_(Memoir.status == APPROVED, Memoir.web_consent.in_(ON_THE_WEB))
    else:
        shown = Memoir.status == APPROVED
    if member_id is not None:
        shown = or_(shown, Memoir.member_id == member_id)
    return shown


def shown_author(memoir: Memoir, audience: Audience) -> str | None:
    """The author's name as this audience may read it; None means "anonymous"."""
    if audience is Audience.PUBLIC and memoir.web_consent != NAMED:
        return None
    return memoir.author_name


async def set_web_consent(session: AsyncSession, memoir: Memoir, consent: str) -> None:
    """The author's choice: members only, or the public website with or without a name."""
    if consent not in CONSENTS:
        raise ValueError(consent)
    memoir.web_consent = consent
    await session.flush()


# ---------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileRef:
    """A file of a memoir as a page shows it. `show`: image | audio | download."""

    sha256: str
    extension: str
    mime_type: str
    show: str
    caption: str | None
    original_name: str | None


def file_ref(row: MediaFile) -> FileRef:
    checked = ALLOWED.get(declared_type(row.mime_type))
    family = checked.family if checked else None
    if row.kind == KIND_PHOTO and family == IMAGE:
        show = "image"
    elif row.kind == KIND_VOICE and family == AUDIO:
        show = "audio"
    else:
        show = "download"
    extension = checked.extension if checked else ".bin"
    return FileRef(row.sha256, extension, row.mime_type, show, row.caption, row.original_name)


async def visible_file(
    session: AsyncSession, sha256: str, audience: Audience, member_id: int | None = None
) -> MediaFile | None:
    """A stored file by its hash, if a memoir this audience sees holds it; else None."""
    return await session.scalar(
        select(MediaFile)
        .join(Memoir, Memoir.id == MediaFile.memoir_id)
        .where(MediaFile.sha256 == sha256, visible_to(audience, member_id))
        .limit(1)
    )


# ---------------------------------------------------------------------- listings


@dataclass(frozen=True)
class Card:
    id: int
    title: str | None
    decade: int | None
    year: int | None
    place: str | None
    theme: str | None
    author: str | None
    excerpt: str
    photo: FileRef | None
    photos: int
    recordings: int
    status: str = APPROVED
    web_consent: str = MEMBERS_ONLY


@dataclass(frozen=True)
class CardPage:
    cards: list[Card]
    total: int
    page: int
    per_page: int
    capped: bool = False  # a search found more than `total` (SEARCH_COUNT_CAP)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Filters:
    decade: int | None = None
    place: str | None = None
    theme: str | None = None
    query: str | None = None
    members_only: bool = False  # the Mini App's "shared with members" list

    @property
    def empty(self) -> bool:
        return not (self.decade or self.place or self.theme or self.query)


def clean_decade(value: str | None) -> int | None:
    """A decade from an address ("1930"); None for anything else."""
    if not value or not value.isdigit() or len(value) != 4:
        return None
    decade = int(value)
    return decade if EARLIEST_YEAR <= decade <= LATEST_YEAR and decade % 10 == 0 else None


def clean_text(value: str | None) -> str | None:
    value = " ".join((value or "").split())[:MAX_FIELD]
    return value or None


def _excerpt(body: str | None) -> str:
    text = " ".join((body or "").split())
    if len(text) <= EXCERPT:
        return text
    cut = text[:EXCERPT].rsplit(" ", 1)[0] if " " in text[:EXCERPT] else text[:EXCERPT]
    return cut.rstrip(",.;:—-") + "…"


async def _cards(session: AsyncSession, rows: Sequence[Memoir], audience: Audience) -> list[Card]:
    ids = [m.id for m in rows]
    media: dict[int, list[MediaFile]] = {}
    if ids:
        for item in await session.scalars(
            select(MediaFile).where(MediaFile.memoir_id.in_(ids)).order_by(MediaFile.id)
        ):
            media.setdefault(item.memoir_id, []).append(item)
    cards = []
    for memoir in rows:
        refs = [file_ref(f) for f in media.get(memoir.id, [])]
        images = [r for r in refs if r.show == "image"]
        cards.append(
            Card(
                id=memoir.id,
                title=memoir.title,
                decade=memoir.decade,
                year=memoir.year,
                place=memoir.place,
                theme=memoir.theme,
                author=shown_author(memoir, audience),
                excerpt=_excerpt(memoir.body),
                photo=images[0] if images else None,
                photos=len(images),
                recordings=sum(1 for r in refs if r.show == "audio"),
                status=memoir.status,
                web_consent=memoir.web_consent,
            )
        )
    return cards


def _filter_clauses(session: AsyncSession, filters: Filters) -> list[ColumnElement[bool]] | None:
    where: list[ColumnElement[bool]] = []
    if filters.decade:
        where.append(Memoir.decade == filters.decade)
    if filters.place:
        where.append(Memoir.place == filters.place)
    if filters.theme:
        where.append(Memoir.theme == filters.theme)
    if filters.members_only:
        where.append(Memoir.web_consent == MEMBERS_ONLY)
    if filters.query is not None:
        parsed = search.parse_query(filters.query)
        if not parsed:
            return None  # nothing searchable (only punctuation): no match
        where.append(search.matches(search.dialect_of(session), parsed))
    return where


async def collection_page(
    session: AsyncSession,
    audience: Audience,
    filters: Filters = Filters(),
    *,
    page: int = 0,
    per_page: int = 24,
) -> CardPage:
    """Visible memoirs matching the filters, newest first (a stable, explainable order)."""
    clauses = _filter_clauses(session, filters)
    if clauses is None:
        return CardPage([], 0, 0, per_page)
    where = [visible_to(audience), *clauses]
    capped = False
    if filters.query is None:
        total = int(await session.scalar(select(func.count(Memoir.id)).where(*where)) or 0)
    else:
        found = select(Memoir.id).where(*where).limit(SEARCH_COUNT_CAP + 1).subquery()
        total = int(await session.scalar(select(func.count()).select_from(found)) or 0)
        capped = total > SEARCH_COUNT_CAP
        total = min(total, SEARCH_COUNT_CAP)
    last = max(0, -(-total // per_page) - 1)
    page = min(max(page, 0), last)
    rows = list(
        await session.scalars(
            _card_columns()
            .where(*where)
            .order_by(Memoir.id.desc())
            .offset(page * per_page)
            .limit(per_page)
        )
    )
    return CardPage(await _cards(session, rows, audience), total, page, per_page, capped)


def _card_columns() -> Select[tuple[Memoir]]:
    # Cards need neither the search document nor the reject reason.
    return select(Memoir).options(
        load_only(
            Memoir.id,
            Memoir.title,
            Memoir.decade,
            Memoir.year,
            Memoir.place,
            Memoir.theme,
            Memoir.author_name,
            Memoir.body,
            Memoir.status,
            Memoir.web_consent,
            Memoir.member_id,
        )
    )


async def own_memoirs(session: AsyncSession, member_id: int) -> list[Card]:
    """A member's own memoirs in every state (drafts too), newest first."""
    rows = list(
        await session.scalars(
            _card_columns().where(Memoir.member_id == member_id).order_by(Memoir.id.desc())
        )
    )
    return await _cards(session, rows, Audience.MEMBERS)


# ---------------------------------------------------------------------- facets


@dataclass(frozen=True)
class FacetValue:
    value: str | int
    count: int


@dataclass
class Facets:
    decades: list[FacetValue] = field(default_factory=list)
    places: list[FacetValue] = field(default_factory=list)
    themes: list[FacetValue] = field(default_factory=list)
    total: int = 0


async def facets(session: AsyncSession, audience: Audience) -> Facets:
    """Decades in order; places and themes most used first (at most FACET_LIMIT each)."""
    shown = visible_to(audience)
    count = func.count(Memoir.id)
    result = Facets()
    for decade, n in await session.execute(
        select(Memoir.decade, count)
        .where(shown, Memoir.decade.is_not(None))
        .group_by(Memoir.decade)
    ):
        result.decades.append(FacetValue(decade, n))
    result.decades.sort(key=lambda f: f.value)
    for column, target in ((Memoir.place, result.places), (Memoir.theme, result.themes)):
        rows = await session.execute(
            select(column, count)
            .where(shown, column.is_not(None))
            .group_by(column)
            .order_by(count.desc(), column)
            .limit(FACET_LIMIT)
        )
        target.extend(FacetValue(value, n) for value, n in rows)
        target.sort(key=lambda f: (-f.count, normalize(str(f.value))))
    result.total = int(await session.scalar(select(func.count(Memoir.id)).where(shown)) or 0)
    return result


# ---------------------------------------------------------------------- one memoir


@dataclass(frozen=True)
class MemoirPage:
    id: int
    title: str | None
    body: str | None
    decade: int | None
    year: int | None
    place: str | None
    people: str | None
    theme: str | None
    author: str | None
    status: str
    web_consent: str
    own: bool
    files: list[FileRef]

    @property
    def photos(self) -> list[FileRef]:
        return [f for f in self.files if f.show == "image"]


async def memoir_page(
    session: AsyncSession, memoir_id: int, audience: Audience, member_id: int | None = None
) -> MemoirPage | None:
    """The memoir if this audience (or its own author) may see it; None otherwise, the
    same None for a memoir that does not exist (an address reveals nothing)."""
    memoir = await session.scalar(
        select(Memoir).where(Memoir.id == memoir_id, visible_to(audience, member_id))
    )
    if memoir is None:
        return None
    files = [
        file_ref(f)
        for f in await session.scalars(
            select(MediaFile).where(MediaFile.memoir_id == memoir.id).order_by(MediaFile.id)
        )
    ]
    own = member_id is not None and memoir.member_id == member_id
    return MemoirPage(
        id=memoir.id,
        title=memoir.title,
        body=memoir.body,
        decade=memoir.decade,
        year=memoir.year,
        place=memoir.place,
        people=memoir.people,
        theme=memoir.theme,
        author=memoir.author_name if own else shown_author(memoir, audience),
        status=memoir.status,
        web_consent=memoir.web_consent,
        own=own,
        files=files,
    )


async def own_memoir(session: AsyncSession, member_id: int, memoir_id: int) -> Memoir | None:
    memoir = await session.get(Memoir, memoir_id)
    return memoir if memoir is not None and memoir.member_id == member_id else None


async def published_ids(session: AsyncSession, *, after: int = 0, limit: int = 10_000) -> list[int]:
    """Ids of the memoirs on the public website, in order (the sitemap pages them)."""
    rows = await session.scalars(
        select(Memoir.id)
        .where(visible_to(Audience.PUBLIC), Memoir.id > after)
        .order_by(Memoir.id)
        .limit(limit)
    )
    return list(rows)
