"""Burial records: validation, adding, changing, moderation, photos and relatives.

Plain async functions on the caller's session. They add and flush, never commit: the
caller's unit of work (a handler's middleware, the importer's batch) commits.
Every name, date or place is checked here, so a record is never stored half-valid;
a bad value raises `RecordError` with a translatable one-line reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from burials.dates import DateError, PartialDate, parse_partial_date, year_of
from burials.names.words import field_words
from db.media import KIND_PHOTO, MediaStore
from db.media_refs import remove_when_unused
from db.models import BurialNameKey, BurialPhoto, BurialRecord, BurialRelation
from ground.i18n import N_

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)

# Lengths a person can type or a list can hold; a 10 MB cell is a broken file, not a name.
LIMITS = {
    "external_id": 64,
    "surname": 200,
    "given_names": 200,
    "patronymic": 200,
    "cemetery": 300,
    "section": 200,
    "source": 300,
    "inscription": 4000,
}
NAME_FIELDS = ("surname", "given_names", "patronymic")

RELATIONS = ("parent", "child", "spouse", "sibling", "relative")
_INVERSE = {"parent": "child", "child": "parent"}

# The reference of a record added in the club (no list number): "club:<row id>".
CLUB_ID_PREFIX = "club:"

KIND_SURNAME, KIND_GIVEN, KIND_PATRONYMIC, KIND_YEAR = "s", "g", "p", "y"
_KIND_OF_FIELD = {"surname": KIND_SURNAME, "given_names": KIND_GIVEN, "patronymic": KIND_PATRONYMIC}


class RecordError(ValueError):
    """A value that cannot go into a record. `message` is translatable; `field` names it."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        self.field = field
        self.message = message
        self.params = params
        super().__init__(f"{field}: " + message.format(**params))


@dataclass(frozen=True)
class RecordFields:
    """A record's content, checked. Text is kept as the source wrote it (trimmed)."""

    surname: str = ""
    given_names: str = ""
    patronymic: str = ""
    born: PartialDate | None = None
    died: PartialDate | None = None
    cemetery: str | None = None
    section: str | None = None
    inscription: str | None = None
    source: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    external_id: str | None = None

    def column_values(self) -> dict[str, object]:
        """The values as stored in `burial_records`."""
        return {
            "external_id": self.external_id,
            "surname": self.surname,
            "given_names": self.given_names,
            "patronymic": self.patronymic,
            "born": self.born.iso() if self.born else None,
            "born_old_style": bool(self.born and self.born.old_style),
            "died": self.died.iso() if self.died else None,
            "died_old_style": bool(self.died and self.died.old_style),
            "cemetery": self.cemetery,
            "section": self.section,
            "inscription": self.inscription,
            "source": self.source,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


def _text(name: str, value: object, *, optional: bool) -> str | None:
    if value is None:
        return None if optional else ""
    text = " ".join(str(value).split()) if name != "inscription" else str(value).strip()
    if "\x00" in text:
        raise RecordError(name, N_("contains a NUL character"))
    if len(text) > LIMITS[name]:
        raise RecordError(
            name,
            N_("is {length} characters long; at most {limit} are kept"),
            length=len(text),
            limit=LIMITS[name],
        )
    if not text:
        return None if optional else ""
    return text


def _coordinate(name: str, value: object, bound: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise RecordError(name, N_("«{value}» is not a number"), value=value) from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise RecordError(
            name, N_("{value} is outside −{bound}…{bound}"), value=value, bound=int(bound)
        )
    return number


def _date(name: str, value: object) -> PartialDate | None:
    if isinstance(value, PartialDate) or value is None:
        return value
    try:
        return parse_partial_date(str(value))
    except DateError as exc:
        raise RecordError(name, exc.message, **exc.params) from None


def clean_fields(values: Mapping[str, object]) -> RecordFields:
    """Checks every field; raises RecordError naming the first one that is wrong."""
    known = {f.name for f in fields(RecordFields)}
    unknown = set(values) - known
    if unknown:
        raise RecordError(sorted(unknown)[0], N_("is not a field of a burial record"))
    names = {n: _text(n, values.get(n), optional=False) or "" for n in NAME_FIELDS}
    if not any(field_words(names[n]) for n in ("surname", "given_names")):
        raise RecordError("surname", N_("a record needs a surname or a given name"))
    born = _date("born", values.get("born"))
    died = _date("died", values.get("died"))
    if born and died and died.year < born.year:
        raise RecordError(
            "died",
            N_("the year of death {died} is before the year of birth {born}"),
            died=died.year,
            born=born.year,
        )
    latitude = _coordinate("latitude", values.get("latitude"), 90.0)
    longitude = _coordinate("longitude", values.get("longitude"), 180.0)
    if (latitude is None) != (longitude is None):
        raise RecordError("longitude", N_("give both latitude and longitude, or neither"))
    return RecordFields(
        **names,
        born=born,
        died=died,
        cemetery=_text("cemetery", values.get("cemetery"), optional=True),
        section=_text("section", values.get("section"), optional=True),
        inscription=_text("inscription", values.get("inscription"), optional=True),
        source=_text("source", values.get("source"), optional=True),
        latitude=latitude,
        longitude=longitude,
        external_id=_text("external_id", values.get("external_id"), optional=True),
    )


def content_id(record: RecordFields) -> str:
    """A stable reference for a list row that has none: the same row gives the same id."""
    parts = [record.surname, record.given_names, record.patronymic]
    parts += [str(record.born or ""), str(record.died or ""), record.cemetery or ""]
    parts += [record.section or ""]
    digest = hashlib.sha256("\x1f".join(parts).casefold().encode("utf-8")).hexdigest()
    return "h:" + digest[:24]


# ---------------------------------------------------------------------- search keys


def search_keys(
    surname: str, given_names: str, patronymic: str, born: str | None, died: str | None
) -> set[tuple[str, str]]:
    """(kind, key) pairs of a record: each word's sound keys, and its years."""
    keys: set[tuple[str, str]] = set()
    for name, text in zip(NAME_FIELDS, (surname, given_names, patronymic), strict=True):
        for word in field_words(text):
            keys.update((_KIND_OF_FIELD[name], key) for key in word.keys)
    for stored in (born, died):
        year = year_of(stored)
        if year is not None:
            keys.add((KIND_YEAR, str(year)))
    return keys


def key_rows(record_id: int, values: Mapping[str, object]) -> list[dict[str, object]]:
    keys = search_keys(
        str(values.get("surname") or ""),
        str(values.get("given_names") or ""),
        str(values.get("patronymic") or ""),
        values.get("born"),  # type: ignore[arg-type]
        values.get("died"),  # type: ignore[arg-type]
    )
    return [{"record_id": record_id, "kind": kind, "key": key} for kind, key in sorted(keys)]


async def write_keys(session: AsyncSession, records: Iterable[BurialRecord]) -> None:
    """Replaces the search keys of these (flushed) records."""
    records = list(records)
    if not records:
        return
    ids = [r.id for r in records]
    await session.execute(delete(BurialNameKey).where(BurialNameKey.record_id.in_(ids)))
    rows = [
        row
        for r in records
        for row in key_rows(
            r.id,
            {
                "surname": r.surname,
                "given_names": r.given_names,
                "patronymic": r.patronymic,
                "born": r.born,
                "died": r.died,
            },
        )
    ]
    if rows:
        await session.execute(insert(BurialNameKey), rows)


# ---------------------------------------------------------------------- records


async def add_record(
    session: AsyncSession,
    *,
    added_by: int | None = None,
    status: str = PENDING,
    **values: object,
) -> BurialRecord:
    """Checks and adds one record with its search keys (flushed, not committed).

    `values` are the fields of `RecordFields` (surname, given_names, patronymic, born,
    died, cemetery, section, inscription, source, latitude, longitude, external_id).
    """
    if status not in STATUSES:
        raise RecordError("status", N_("must be pending, approved or rejected"))
    checked = clean_fields(values)
    record = BurialRecord(**checked.column_values(), status=status, added_by=added_by)
    session.add(record)
    await session.flush()
    if record.external_id is None:
        # Every record has a reference, so an export imports back onto the same rows.
        record.external_id = f"{CLUB_ID_PREFIX}{record.id}"
        await session.flush()
    await write_keys(session, [record])
    return record


async def update_record(
    session: AsyncSession, record: BurialRecord, **changes: object
) -> BurialRecord:
    """Changes some fields (checked together with the rest); keys follow the names."""
    current = {
        "surname": record.surname,
        "given_names": record.given_names,
        "patronymic": record.patronymic,
        "born": _stored_date(record.born, record.born_old_style),
        "died": _stored_date(record.died, record.died_old_style),
        "cemetery": record.cemetery,
        "section": record.section,
        "inscription": record.inscription,
        "source": record.source,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "external_id": record.external_id,
    }
    checked = clean_fields({**current, **changes})
    for column, value in checked.column_values().items():
        setattr(record, column, value)
    await session.flush()
    await write_keys(session, [record])
    return record


def _stored_date(iso: str | None, old_style: bool) -> str | None:
    return None if iso is None else iso + (" OS" if old_style else "")


def stored_date_text(record: BurialRecord, which: str) -> str:
    """«1923-05-14», or «1910-02-29 OS» for an Old Style date; "" when unknown."""
    if which == "born":
        return _stored_date(record.born, record.born_old_style) or ""
    return _stored_date(record.died, record.died_old_style) or ""


async def get_record(session: AsyncSession, record_id: int) -> BurialRecord | None:
    return await session.get(BurialRecord, record_id)


async def get_by_external_id(session: AsyncSession, external_id: str) -> BurialRecord | None:
    return await session.scalar(select(BurialRecord).where(BurialRecord.external_id == external_id))


async def set_status(
    session: AsyncSession, record: BurialRecord, status: str, reason: str | None = None
) -> None:
    """Moderation: approve, or reject with a reason the person who added it can read."""
    if status not in STATUSES:
        raise RecordError("status", N_("must be pending, approved or rejected"))
    record.status = status
    record.reject_reason = reason if status == REJECTED else None
    await session.flush()


async def pending_records(
    session: AsyncSession, *, limit: int = 10, offset: int = 0
) -> list[BurialRecord]:
    """The moderation queue, oldest first."""
    rows = await session.scalars(
        select(BurialRecord)
        .where(BurialRecord.status == PENDING)
        .order_by(BurialRecord.created_at, BurialRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows)


async def count_pending(session: AsyncSession) -> int:
    query = select(func.count()).select_from(BurialRecord).where(BurialRecord.status == PENDING)
    return int(await session.scalar(query) or 0)


async def delete_record(
    session: AsyncSession, store: MediaStore, record: BurialRecord
) -> list[str]:
    """Removes a record with its keys, photo rows and links (flushed, not committed).

    Its photo files that no memoir or other record shares go once the caller commits (a
    crash in between leaves an orphan file for the start-up check, never a row without its
    file). Returns the paths that will go.
    """
    paths = list(
        await session.scalars(select(BurialPhoto.path).where(BurialPhoto.record_id == record.id))
    )
    await session.delete(record)
    await session.flush()
    return await remove_when_unused(session, store, paths)


# ---------------------------------------------------------------------- relatives


async def link_relatives(
    session: AsyncSession,
    record: BurialRecord,
    relative: BurialRecord,
    relation: str = "relative",
    *,
    added_by: int | None = None,
) -> BurialRelation:
    """Says `relative` is `record`'s parent/child/spouse/sibling/relative. Linking the
    same pair again (either way round) replaces the relation instead of doubling it."""
    if relation not in RELATIONS:
        raise RecordError(
            "relation", N_("must be one of: parent, child, spouse, sibling, relative")
        )
    if record.id == relative.id:
        raise RecordError("relation", N_("a record cannot be its own relative"))
    existing = await session.scalar(
        select(BurialRelation).where(
            or_(
                (BurialRelation.record_id == record.id)
                & (BurialRelation.relative_id == relative.id),
                (BurialRelation.record_id == relative.id)
                & (BurialRelation.relative_id == record.id),
            )
        )
    )
    if existing is not None:
        forward = existing.record_id == record.id
        existing.relation = relation if forward else _INVERSE.get(relation, relation)
        await session.flush()
        return existing
    link = BurialRelation(
        record_id=record.id, relative_id=relative.id, relation=relation, added_by=added_by
    )
    session.add(link)
    await session.flush()
    return link


async def unlink_relatives(session: AsyncSession, record: BurialRecord, relative: BurialRecord):
    await session.execute(
        delete(BurialRelation).where(
            or_(
                (BurialRelation.record_id == record.id)
                & (BurialRelation.relative_id == relative.id),
                (BurialRelation.record_id == relative.id)
                & (BurialRelation.relative_id == record.id),
            )
        )
    )


async def relatives_of(
    session: AsyncSession, record: BurialRecord
) -> list[tuple[BurialRecord, str]]:
    """Each linked record with what it is to `record` (parent, child, spouse, …)."""
    links = list(
        await session.scalars(
            select(BurialRelation).where(
                or_(BurialRelation.record_id == record.id, BurialRelation.relative_id == record.id)
            )
        )
    )
    found: list[tuple[BurialRecord, str]] = []
    for link in links:
        if link.record_id == record.id:
            other_id, relation = link.relative_id, link.relation
        else:
            other_id, relation = link.record_id, _INVERSE.get(link.relation, link.relation)
        other = await session.get(BurialRecord, other_id)
        if other is not None:
            found.append((other, relation))
    found.sort(key=lambda pair: (RELATIONS.index(pair[1]), pair[0].id))
    return found


# ---------------------------------------------------------------------- photos


async def add_photo(
    session: AsyncSession,
    store: MediaStore,
    record: BurialRecord,
    source: Path | bytes,
    *,
    mime_type: str = "image/jpeg",
    original_name: str | None = None,
    caption: str | None = None,
    telegram_file_id: str | None = None,
    added_by: int | None = None,
) -> BurialPhoto:
    """Stores a gravestone photo (GPS stripped by the store) and links it to the record.

    A file path is consumed (moved into the store); bytes are written through a temp file.
    """
    if isinstance(source, bytes):
        blob = await asyncio.to_thread(
            store.put_bytes,
            source,
            kind=KIND_PHOTO,
            mime_type=mime_type,
            original_name=original_name,
        )
    else:
        blob = await asyncio.to_thread(
            store.put_file,
            source,
            kind=KIND_PHOTO,
            mime_type=mime_type,
            original_name=original_name,
        )
    photo = BurialPhoto(
        record_id=record.id,
        sha256=blob.sha256,
        path=blob.path,
        mime_type=blob.mime_type,
        size=blob.size,
        original_name=original_name,
        caption=caption,
        telegram_file_id=telegram_file_id,
        added_by=added_by,
    )
    session.add(photo)
    await session.flush()
    return photo


async def photos_of(session: AsyncSession, record: BurialRecord) -> list[BurialPhoto]:
    rows = await session.scalars(
        select(BurialPhoto).where(BurialPhoto.record_id == record.id).order_by(BurialPhoto.id)
    )
    return list(rows)


# ---------------------------------------------------------------------- maintenance


async def reindex(session: AsyncSession, *, batch: int = 1000) -> int:
    """Rewrites every record's keys (after the name rules changed). Flushes per batch."""
    done = 0
    last_id = 0
    while True:
        records = list(
            await session.scalars(
                select(BurialRecord)
                .where(BurialRecord.id > last_id)
                .order_by(BurialRecord.id)
                .limit(batch)
            )
        )
        if not records:
            return done
        await write_keys(session, records)
        await session.flush()
        done += len(records)
        last_id = records[-1].id
