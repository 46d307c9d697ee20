"""Memoir records: drafts, parts, moderation, listing and search. Plain async functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from archive import search
from db.media import MediaStore, StoredBlob
from db.media_refs import remove_when_unused
from db.models import MediaFile, Member, Memoir

DRAFT, PENDING, APPROVED, REJECTED = "draft", "pending", "approved", "rejected"
MAX_BODY = 50_000
MAX_FIELD = 300
EARLIEST_YEAR, LATEST_YEAR = 1850, 2030


def normalize(text: str) -> str:
    """Search form: casefolded, ё→е, spaces collapsed (Chinese is unaffected)."""
    return " ".join(text.casefold().replace("ё", "е").split())


def search_text_of(memoir: Memoir, captions: Sequence[str | None] = ()) -> str:
    """The memoir's search document (archive/search.py)."""
    return search.memoir_document(memoir, captions)


_DECADE_RE = re.compile(r"^(1[89]\d0|20[0-2]0)\s*(?:s|'s|-?е|-?х|-?ые|年代)?$")
_YEAR_RE = re.compile(r"^(1[89]\d\d|20[0-3]\d)\s*(?:г\.?|год|年)?$")
_SHORT_DECADE_RE = re.compile(r"^([1-9]0)\s*(?:s|'s|-?е|-?х|-?ые|年代)$")


def parse_period(text: str) -> tuple[int | None, int | None] | None:
    """ "1935" → (1930, 1935); "1930s"/"1930-е"/"30-е"/"1930年代" → (1930, None); else None."""
    value = normalize(text).replace("’", "'")
    if match := _YEAR_RE.match(value):
        year = int(match.group(1))
        if EARLIEST_YEAR <= year <= LATEST_YEAR:
            return year // 10 * 10, year
        return None
    if match := _DECADE_RE.match(value):
        return int(match.group(1)), None
    if match := _SHORT_DECADE_RE.match(value):
        return 1900 + int(match.group(1)), None
    return None


# ---------------------------------------------------------------------- drafts


async def create_draft(session: AsyncSession, member: Member, theme: str | None = None) -> Memoir:
    memoir = Memoir(member_id=member.id, author_name=member.name, status=DRAFT, theme=theme)
    session.add(memoir)
    await session.flush()
    return memoir


async def load_memoir(session: AsyncSession, memoir_id: int) -> Memoir | None:
    return await session.scalar(
        select(Memoir).where(Memoir.id == memoir_id).options(selectinload(Memoir.media))
    )


async def get_own(session: AsyncSession, member_id: int, memoir_id: int) -> Memoir | None:
    """The memoir only if it belongs to this member: forged callback ids get None."""
    memoir = await load_memoir(session, memoir_id)
    return memoir if memoir is not None and memoir.member_id == member_id else None


async def add_text(session: AsyncSession, memoir: Memoir, text: str) -> None:
    body = f"{memoir.body}\n\n{text}" if memoir.body else text
    memoir.body = body[:MAX_BODY]
    await refresh_search_text(session, memoir)
    await session.flush()


async def add_media(
    session: AsyncSession,
    memoir: Memoir,
    blob: StoredBlob,
    *,
    caption: str | None = None,
    original_name: str | None = None,
    telegram_file_id: str | None = None,
    telegram_file_unique_id: str | None = None,
) -> MediaFile | None:
    """Record a stored file; None when this memoir already holds the same content."""
    exists = await session.scalar(
        select(MediaFile.id).where(
            MediaFile.memoir_id == memoir.id, MediaFile.sha256 == blob.sha256
        )
    )
    if exists is not None:
        return None
    row = MediaFile(
        memoir_id=memoir.id,
        sha256=blob.sha256,
        path=blob.path,
        mime_type=blob.mime_type,
        size=blob.size,
        original_name=original_name,
        kind=blob.kind,
        caption=caption,
        telegram_file_id=telegram_file_id,
        telegram_file_unique_id=telegram_file_unique_id,
    )
    session.add(row)
    if caption:
        search.append_to_document(memoir, caption)
    await session.flush()
    return row


async def has_content(session: AsyncSession, memoir: Memoir) -> bool:
    if memoir.body:
        return True
    count = await session.scalar(
        select(func.count()).select_from(MediaFile).where(MediaFile.memoir_id == memoir.id)
    )
    return bool(count)


async def set_details(session: AsyncSession, memoir: Memoir, **fields: object) -> Memoir:
    for key, value in fields.items():
        if key not in {"title", "decade", "year", "place", "people", "theme"}:
            raise ValueError(key)
        if isinstance(value, str):
            value = value.strip()[:MAX_FIELD] or None
        setattr(memoir, key, value)
    await refresh_search_text(session, memoir)
    await session.flush()
    return memoir


async def refresh_search_text(session: AsyncSession, memoir: Memoir) -> None:
    captions = list(
        await session.scalars(select(MediaFile.caption).where(MediaFile.memoir_id == memoir.id))
    )
    search.write_document(memoir, captions)


async def submit(session: AsyncSession, memoir: Memoir) -> None:
    memoir.status = PENDING
    await refresh_search_text(session, memoir)
    await session.flush()


# ---------------------------------------------------------------------- deleting


async def delete_memoirs(session: AsyncSession, store: MediaStore, memoir_ids: list[int]) -> int:
    """Delete memoirs; the files no other memoir shares go once the caller commits (a crash
    in between leaves an orphan file for the start-up check, never a dangling row)."""
    if not memoir_ids:
        return 0
    paths = set(
        await session.scalars(select(MediaFile.path).where(MediaFile.memoir_id.in_(memoir_ids)))
    )
    await session.execute(delete(MediaFile).where(MediaFile.memoir_id.in_(memoir_ids)))
    result = await session.execute(delete(Memoir).where(Memoir.id.in_(memoir_ids)))
    await remove_when_unused(session, store, paths)  # a burial record may share a file
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_member_memoirs(
    session: AsyncSession, store: MediaStore, member_id: int, *, keep_anonymised: bool
) -> int:
    """For /forget, before the member row goes: delete their memoirs and files, or keep
    the approved ones without a name (drafts and unreviewed ones are always deleted)."""
    ids = list(await session.scalars(select(Memoir.id).where(Memoir.member_id == member_id)))
    if not keep_anonymised:
        return await delete_memoirs(session, store, ids)
    kept = list(
        await session.scalars(
            select(Memoir).where(Memoir.member_id == member_id, Memoir.status == APPROVED)
        )
    )
    for memoir in kept:
        memoir.member_id = None
        memoir.author_name = None
        await refresh_search_text(session, memoir)
    return await delete_memoirs(session, store, [i for i in ids if i not in {m.id for m in kept}])


# ---------------------------------------------------------------------- listing, search


@dataclass(frozen=True)
class Page:
    items: list[Memoir]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def list_own(session: AsyncSession, member_id: int, page: int, per_page: int = 8) -> Page:
    where = (Memoir.member_id == member_id,)
    return await _page(session, where, page, per_page, newest_first=True)


async def search_approved(
    session: AsyncSession, query: str | None, page: int, per_page: int = 5
) -> Page:
    """Approved memoirs, newest first; with a query, those the search index matches
    (archive/search.py: words by their beginning, ё/е and case alike, Chinese as written)."""
    where = [Memoir.status == APPROVED]
    parsed = search.parse_query(query)
    if parsed:
        where.append(search.matches(search.dialect_of(session), parsed))
    elif query and query.strip():
        return Page([], 0, 0, per_page)  # only punctuation: nothing can match it
    return await _page(session, tuple(where), page, per_page, newest_first=True)


async def _page(
    session: AsyncSession, where: tuple, page: int, per_page: int, *, newest_first: bool
) -> Page:
    total = int(await session.scalar(select(func.count()).select_from(Memoir).where(*where)) or 0)
    last = max(0, -(-total // per_page) - 1)
    page = min(max(page, 0), last)
    order = Memoir.id.desc() if newest_first else Memoir.id
    items = list(
        await session.scalars(
            select(Memoir).where(*where).order_by(order).offset(page * per_page).limit(per_page)
        )
    )
    return Page(items, total, page, per_page)


# ---------------------------------------------------------------------- moderation


async def next_pending(session: AsyncSession) -> Memoir | None:
    memoir_id = await session.scalar(
        select(Memoir.id).where(Memoir.status == PENDING).order_by(Memoir.id).limit(1)
    )
    return await load_memoir(session, memoir_id) if memoir_id is not None else None


async def count_pending(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Memoir).where(Memoir.status == PENDING)
        )
        or 0
    )


async def decide(
    session: AsyncSession, memoir: Memoir, *, approve: bool, reason: str | None = None
) -> bool:
    """Approve or reject a pending memoir; False if someone already decided it."""
    if memoir.status != PENDING:
        return False
    memoir.status = APPROVED if approve else REJECTED
    memoir.reject_reason = None if approve else (reason or "").strip()[: MAX_FIELD * 3] or None
    await session.flush()
    return True


async def author_of(session: AsyncSession, memoir: Memoir) -> Member | None:
    if memoir.member_id is None:
        return None
    return await session.get(Member, memoir.member_id)


async def count_own_memoirs(session: AsyncSession, member_id: int) -> int:
    query = select(func.count()).select_from(Memoir).where(Memoir.member_id == member_id)
    return int(await session.scalar(query) or 0)


# ---------------------------------------------------------------------- browsing by facet

FACET_THEME, FACET_DECADE, FACET_AUTHOR = "t", "d", "a"
FACETS = (FACET_THEME, FACET_DECADE, FACET_AUTHOR)
# Key 0 stands for "no theme" / "time unknown" / "anonymous" in every facet.
UNKNOWN = 0


@dataclass(frozen=True)
class Facet:
    """One value of a facet with its count of approved memoirs.

    `key` fits in callback data (64 bytes): the decade, the author's member id, or for a
    theme the id of its oldest memoir (a theme's text can be 300 characters long)."""

    key: int
    label: str | None
    count: int


def _facet_sort(facets: list[Facet], *, by_label: bool) -> list[Facet]:
    known = [f for f in facets if f.key != UNKNOWN]
    unknown = [f for f in facets if f.key == UNKNOWN]
    if by_label:
        known.sort(key=lambda f: normalize(f.label or ""))
    else:
        known.sort(key=lambda f: f.key)
    return known + unknown


async def list_facets(session: AsyncSession, facet: str) -> list[Facet]:
    """Every value of `facet` among approved memoirs, unknown last."""
    approved = Memoir.status == APPROVED
    count = func.count(Memoir.id)
    if facet == FACET_THEME:
        rows = await session.execute(
            select(Memoir.theme, func.min(Memoir.id), count).where(approved).group_by(Memoir.theme)
        )
        found = [Facet(first if theme else UNKNOWN, theme, n) for theme, first, n in rows]
        return _facet_sort(found, by_label=True)
    if facet == FACET_DECADE:
        rows = await session.execute(
            select(Memoir.decade, count).where(approved).group_by(Memoir.decade)
        )
        found = [Facet(decade or UNKNOWN, str(decade) if decade else None, n) for decade, n in rows]
        return _facet_sort(found, by_label=False)
    if facet == FACET_AUTHOR:
        rows = await session.execute(
            select(Memoir.member_id, func.max(Memoir.author_name), count)
            .where(approved)
            .group_by(Memoir.member_id)
        )
        found = [Facet(mid or UNKNOWN, name if mid else None, n) for mid, name, n in rows]
        return _facet_sort(found, by_label=True)
    raise ValueError(facet)


async def _facet_filter(session: AsyncSession, facet: str, key: int) -> tuple | None:
    """The WHERE clause for one facet value; None when the key is forged or stale."""
    if facet == FACET_THEME:
        if key == UNKNOWN:
            return (Memoir.theme.is_(None),)
        anchor = await session.get(Memoir, key)
        if anchor is None or anchor.status != APPROVED or not anchor.theme:
            return None
        return (Memoir.theme == anchor.theme,)
    if facet == FACET_DECADE:
        if key == UNKNOWN:
            return (Memoir.decade.is_(None),)
        valid = EARLIEST_YEAR <= key <= LATEST_YEAR and key % 10 == 0
        return (Memoir.decade == key,) if valid else None
    if facet == FACET_AUTHOR:
        return (Memoir.member_id.is_(None),) if key == UNKNOWN else (Memoir.member_id == key,)
    return None


async def browse_approved(
    session: AsyncSession, facet: str, key: int, page: int, per_page: int = 5
) -> Page | None:
    """Approved memoirs with one facet value, oldest first (a book reads in order);
    None for a forged or stale key, an empty page when the value has no memoirs left."""
    where = await _facet_filter(session, facet, key)
    if where is None:
        return None
    return await _page(
        session, (Memoir.status == APPROVED, *where), page, per_page, newest_first=False
    )
