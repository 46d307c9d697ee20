"""CSV import and export of burial records.

The file is UTF-8 with the header
`id,surname,given_names,patronymic,born,died,cemetery,section,inscription,source,latitude,longitude`
(`id` is the source's own reference, kept as the record's external id; a row without one
gets a reference made from its content, so it too is found again).

Safe to repeat and to resume: rows are committed in batches as they go, and each row is
matched by its reference, so the same file imported twice changes nothing, and an import
killed half-way and run again ends with every row exactly once. A bad row is reported
with its line number and reason and the others go on; a row is stored whole or not at all.
A file that cannot be read as a whole (not UTF-8, no header) is refused before anything
is written. Approved rows that answer a member's search for relatives are matched with
each batch, and the member is told through the outbox (burials/relatives.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from burials.records import (
    APPROVED,
    STATUSES,
    RecordError,
    RecordFields,
    clean_fields,
    content_id,
    key_rows,
    stored_date_text,
    write_keys,
)
from burials.relatives import match_record_ids
from db.models import BurialNameKey, BurialRecord

COLUMNS = (
    "id",
    "surname",
    "given_names",
    "patronymic",
    "born",
    "died",
    "cemetery",
    "section",
    "inscription",
    "source",
    "latitude",
    "longitude",
)
BATCH = 1000
# Cells are checked against the record's own limits; this only lets the csv module hand
# an oversized cell over (its default, 128 KiB, would stop the whole file instead).
CSV_CELL_LIMIT = 256 * 1024 * 1024
_COMPARED = (
    "surname",
    "given_names",
    "patronymic",
    "born",
    "born_old_style",
    "died",
    "died_old_style",
    "cemetery",
    "section",
    "inscription",
    "source",
    "latitude",
    "longitude",
)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.rejected)

    def summary(self) -> str:
        return (
            f"{self.rows} rows: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )


def decode(data: bytes, name: str) -> str:
    """The file's text, or ImportFileError saying why it is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{name} is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{name} is not UTF-8 (byte 0x{data[exc.start]:02X} on line {line}); "
            "save it as UTF-8 (in Excel: CSV UTF-8)"
        ) from None
    if "\x00" in text:
        raise ImportFileError(f"{name} holds NUL bytes: it is not a CSV text file")
    return text


def read_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line number, cells by column) per row, or (line number, reason) for a broken row.

    Raises ImportFileError when the header is missing or wrong.
    """
    csv.field_size_limit(CSV_CELL_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{name} is empty") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    if missing:
        raise ImportFileError(
            f"{name}: the first line must be the header {','.join(COLUMNS)} "
            f"(missing: {', '.join(missing)})"
        )
    if unknown or len(set(names)) != len(names):
        raise ImportFileError(
            f"{name}: the header has unknown or repeated columns: "
            f"{', '.join(unknown) or 'repeated'}"
        )
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"the CSV cannot be read here ({exc})"
            return
        last_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            yield start, f"{len(cells)} cells where the header has {len(names)}"
            continue
        yield start, dict(zip(names, cells, strict=True))


def check_row(cells: dict[str, str]) -> RecordFields:
    values: dict[str, object] = {c: cells[c] for c in COLUMNS if c != "id"}
    values["external_id"] = cells["id"]
    checked = clean_fields(values)
    if checked.external_id is None:
        checked = RecordFields(**{**checked.__dict__, "external_id": content_id(checked)})
    return checked


async def _store_batch(
    session: AsyncSession, batch: list[RecordFields], status: str, report: ImportReport
) -> list[int]:
    """Adds or updates the batch's rows; returns the ids of the rows added."""
    ids = [r.external_id for r in batch]
    existing = {
        r.external_id: r
        for r in await session.scalars(
            select(BurialRecord).where(BurialRecord.external_id.in_(ids))
        )
    }
    new_rows: list[dict[str, object]] = []
    new_ids: list[int] = []
    changed: list[BurialRecord] = []
    for record in batch:
        values = record.column_values()
        found = existing.get(record.external_id)
        if found is None:
            new_rows.append({**values, "status": status})
        elif any(getattr(found, c) != values[c] for c in _COMPARED):
            for column in _COMPARED:
                setattr(found, column, values[column])
            changed.append(found)
        else:
            report.unchanged += 1
    if new_rows:
        result = await session.execute(
            insert(BurialRecord).returning(BurialRecord.id, sort_by_parameter_order=True),
            new_rows,
        )
        new_ids = list(result.scalars())
        keys = [
            key for rid, row in zip(new_ids, new_rows, strict=True) for key in key_rows(rid, row)
        ]
        if keys:
            await session.execute(insert(BurialNameKey), keys)
        report.added += len(new_rows)
    if changed:
        await session.flush()
        await write_keys(session, changed)
        report.updated += len(changed)
    return new_ids


async def import_csv(
    session_factory: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    status: str = APPROVED,
    batch_size: int = BATCH,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Imports a CSV file; each batch is its own committed transaction."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    text = decode(await asyncio.to_thread(path.read_bytes), path.name)
    rows = read_rows(text, path.name)
    report = ImportReport()
    seen: dict[str, int] = {}
    batch: list[RecordFields] = []

    async def flush_batch() -> None:
        if batch:
            async with session_factory() as session:
                added = await _store_batch(session, batch, status, report)
                if status == APPROVED:
                    # Members looking for these families hear of them (queued in the outbox).
                    await match_record_ids(session, added, datetime.now(UTC))
                await session.commit()
            batch.clear()
            if on_batch is not None:
                on_batch(report)

    for line, cells in rows:
        if isinstance(cells, str):
            report.rejected.append((line, cells))
            continue
        try:
            record = check_row(cells)
        except RecordError as exc:
            report.rejected.append((line, str(exc)))
            continue
        assert record.external_id is not None
        first = seen.setdefault(record.external_id, line)
        if first != line:
            report.rejected.append((line, f"id {record.external_id} already on line {first}"))
            continue
        batch.append(record)
        if len(batch) >= batch_size:
            await flush_batch()
    await flush_batch()
    return report


# ---------------------------------------------------------------------- export


def export_row(record: BurialRecord) -> dict[str, str]:
    def number(value: float | None) -> str:
        return "" if value is None else repr(value)

    return {
        "id": record.external_id or "",
        "surname": record.surname,
        "given_names": record.given_names,
        "patronymic": record.patronymic,
        "born": stored_date_text(record, "born"),
        "died": stored_date_text(record, "died"),
        "cemetery": record.cemetery or "",
        "section": record.section or "",
        "inscription": record.inscription or "",
        "source": record.source or "",
        "latitude": number(record.latitude),
        "longitude": number(record.longitude),
    }


async def iter_export(
    session: AsyncSession, *, approved_only: bool = True, batch: int = 2000
) -> AsyncIterator[dict[str, str]]:
    """Rows in id order, read in batches (an export does not hold the table in memory)."""
    last_id = 0
    while True:
        statement = select(BurialRecord).where(BurialRecord.id > last_id)
        if approved_only:
            statement = statement.where(BurialRecord.status == APPROVED)
        records = list(await session.scalars(statement.order_by(BurialRecord.id).limit(batch)))
        if not records:
            return
        for record in records:
            yield export_row(record)
        last_id = records[-1].id
        session.expunge_all()


async def export_records(
    session: AsyncSession, out: io.TextIOBase, *, fmt: str = "csv", approved_only: bool = True
) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        async for row in iter_export(session, approved_only=approved_only):
            writer.writerow(row)
            count += 1
        return count
    out.write("[")
    async for row in iter_export(session, approved_only=approved_only):
        out.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
