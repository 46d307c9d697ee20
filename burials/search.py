"""Finding burial records by a name in any script: candidates from the key index, then
ranking by the whole name.

1. The query's words are read (every convention for Latin, the Xinhua table for
   Chinese) and turned into coarse sound keys; years become year keys.
2. The database finds records sharing keys and scores them cheaply: a surname key
   counts 3, a given name 2, a patronymic or a year 1, the best per query word, summed.
   The best few hundred are candidates.
3. If the best candidate is still a poor match, a second look adds every key one edit
   away (a letter left out, added, changed or swapped: typos in lists).
4. Candidates are ranked by `burials.names.ranking` and the page is loaded.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from burials.dates import year_of
from burials.names.family import same_family
from burials.names.query import EmptyQuery, Query, parse_query
from burials.names.ranking import NameFields, Ranker
from burials.names.words import field_words
from burials.records import APPROVED, KIND_GIVEN, KIND_PATRONYMIC, KIND_SURNAME, KIND_YEAR
from db.models import BurialRecord

__all__ = ["EmptyQuery", "Match", "SearchStats", "plausible_records", "search_records"]

CANDIDATES = 200
# Below this score the exact keys are deemed not to have found the person.
GOOD_ENOUGH = 0.85
MIN_KEY_FOR_TYPOS = 3
KEY_CLASSES = "PVKHTSLMN"
EXACT, NEAR = 1.0, 0.5


@dataclass(frozen=True)
class Match:
    record: BurialRecord
    score: float


@dataclass
class SearchStats:
    """What a search did (for the benchmark and the logs)."""

    candidates: int = 0
    widened: bool = False
    ms: float = 0.0


def near_keys(key: str) -> set[str]:
    """Keys one edit away: a class left out, added, changed, or two neighbours swapped."""
    head = "A" if key.startswith("A") else ""
    body = key[len(head) :]
    found: set[str] = set()
    for i in range(len(body) + 1):
        for cls in KEY_CLASSES:
            found.add(body[:i] + cls + body[i:])
        if i < len(body):
            found.add(body[:i] + body[i + 1 :])
            for cls in KEY_CLASSES:
                found.add(body[:i] + cls + body[i + 1 :])
        if i < len(body) - 1:
            found.add(body[:i] + body[i + 1] + body[i] + body[i + 2 :])
    variants = {head + f for f in found if f}
    if head:
        variants.add(body)  # an initial vowel lost («Ivanov» written «Vanov»)
    variants.discard(key)
    return {_merge_repeats(v) for v in variants if v}


def _merge_repeats(key: str) -> str:
    out: list[str] = []
    for char in key:
        if not out or out[-1] != char:
            out.append(char)
    return "".join(out)


ANY_KIND = "*"


def _probe_rows(query: Query, widen: bool) -> list[tuple[str, int, float, str]]:
    """(key, word number, weight, kind) for the VALUES list the database joins with.

    Exact keys match a word of any field; keys one edit away are looked up among
    surnames only (a typo in a given name still ranks once the surname is found, and
    given-name keys are short and common: their neighbours would match half the table).
    """
    rows: dict[tuple[str, int], tuple[float, str]] = {}
    word_number = 0
    for number, reading in enumerate(query.readings):
        for word in reading:
            for key in word.keys:
                rows[(key, word_number)] = (EXACT, ANY_KIND)
            # The other readings (a Chinese name cut at each point) are looked up exactly.
            if widen and number == 0:
                for key in word.keys:
                    if len(key.lstrip("A")) >= MIN_KEY_FOR_TYPOS:
                        for near in near_keys(key):
                            rows.setdefault((near, word_number), (NEAR, KIND_SURNAME))
            word_number += 1
    for year in query.years:
        rows[(str(year), word_number)] = (EXACT, KIND_YEAR)
        word_number += 1
    return [(key, number, weight, kind) for (key, number), (weight, kind) in rows.items()]


_SAFE_KEY = re.compile(r"^[A-Z0-9]{1,64}$")
_KIND_WEIGHT = {KIND_SURNAME: 3.0, KIND_GIVEN: 2.0, KIND_PATRONYMIC: 1.0, KIND_YEAR: 1.0}
_CANDIDATE_SQL = """
WITH probe(key, word, weight, kind) AS (VALUES {probes})
SELECT hit.record_id FROM (
    SELECT k.record_id AS record_id,
           max(probe.weight * CASE k.kind {kind_weights} ELSE 0.0 END) AS best
    FROM (
        SELECT record_id, kind, key FROM burial_name_keys
        WHERE key IN ({exact_keys}) OR (kind = 's' AND key IN ({near_keys}))
    ) AS k
    JOIN probe ON k.key = probe.key AND (probe.kind = '*' OR probe.kind = k.kind)
    GROUP BY k.record_id, probe.word
) AS hit
GROUP BY hit.record_id
ORDER BY sum(hit.best) DESC, hit.record_id
LIMIT :limit
"""


def _candidate_sql(probes: list[tuple[str, int, float, str]]) -> str:
    # The probe list is written into the statement: a few hundred rows as bound
    # parameters cost more to prepare than the search itself. Every value is ours (keys
    # of capital letters and digits, numbers, one-letter kinds), checked here again.
    for key, word, weight, kind in probes:
        if not (_SAFE_KEY.match(key) and kind in (*_KIND_WEIGHT, ANY_KIND)):
            raise ValueError(f"unexpected search key {key!r}/{kind!r}")
        assert isinstance(word, int) and isinstance(weight, float)
    rows = ",".join(f"('{key}',{word},{weight!r},'{kind}')" for key, word, weight, kind in probes)
    kind_weights = " ".join(f"WHEN '{kind}' THEN {w!r}" for kind, w in _KIND_WEIGHT.items())
    # The keys are also listed as plain IN lists: PostgreSQL then reads them through the
    # index, where a join with the VALUES list made it scan the whole table.
    exact = sorted({key for key, _w, _wt, kind in probes if kind != KIND_SURNAME})
    near = sorted({key for key, _w, _wt, kind in probes if kind == KIND_SURNAME}) or ["-"]
    return _CANDIDATE_SQL.format(
        probes=rows,
        kind_weights=kind_weights,
        exact_keys=",".join(f"'{k}'" for k in exact) or "'-'",
        near_keys=",".join(f"'{k}'" for k in near),
    )


async def _candidate_ids(
    session: AsyncSession, query: Query, *, widen: bool, limit: int
) -> list[int]:
    """Record ids sharing the most keys with the query. The moderation status is checked
    when the candidates are read: joining every record here would cost a table scan,
    and records waiting for moderation are a short queue beside the approved lists."""
    probes = _probe_rows(query, widen)
    if not probes:
        return []
    rows = await session.execute(text(_candidate_sql(probes)), {"limit": limit})
    return [int(record_id) for (record_id,) in rows]


async def _existing_keys(session: AsyncSession, keys: set[str]) -> set[str]:
    checked = sorted(k for k in keys if _SAFE_KEY.match(k))
    if not checked:
        return set()
    values_list = ",".join(f"('{k}')" for k in checked)
    rows = await session.execute(
        text(
            f"WITH wanted(key) AS (VALUES {values_list}) SELECT key FROM wanted "
            "WHERE EXISTS (SELECT 1 FROM burial_name_keys AS k WHERE k.key = wanted.key)"
        )
    )
    return {key for (key,) in rows}


async def _plausible_readings(session: AsyncSession, query: Query) -> Query:
    """A Chinese name without a dot is read cut at every point; keep the cuts whose both
    halves sound like some name on record (ranking every cut costs more than this look)."""
    if len(query.readings) <= 2:
        return query
    existing = await _existing_keys(session, query.keys())
    kept = [query.readings[0]] + [
        reading
        for reading in query.readings[1:]
        if all(set(word.keys) & existing for word in reading)
    ]
    return replace(query, readings=tuple(kept))


async def _rank(
    session: AsyncSession, ranker: Ranker, ids: list[int], approved_only: bool
) -> list[tuple[float, int]]:
    if not ids:
        return []
    statement = select(
        BurialRecord.id,
        BurialRecord.surname,
        BurialRecord.given_names,
        BurialRecord.patronymic,
        BurialRecord.born,
        BurialRecord.died,
    ).where(BurialRecord.id.in_(ids))
    if approved_only:
        statement = statement.where(BurialRecord.status == APPROVED)
    rows = await session.execute(statement)
    scored = [
        (
            ranker.score(NameFields(surname, given, patronymic, year_of(born), year_of(died))),
            record_id,
        )
        for record_id, surname, given, patronymic, born, died in rows
    ]
    return scored


async def search_records(
    session: AsyncSession,
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    approved_only: bool = True,
    stats: SearchStats | None = None,
) -> list[Match]:
    """Records that best answer `query`, best first (ties by record id).

    Raises EmptyQuery when the query has no name and no year in it.
    """
    started = time.perf_counter()
    parsed = await _plausible_readings(session, parse_query(query))
    ranker = Ranker(parsed)
    wanted = max(CANDIDATES, 3 * (offset + limit))
    ids = await _candidate_ids(session, parsed, widen=False, limit=wanted)
    scored = await _rank(session, ranker, ids, approved_only)
    scored.sort(key=lambda item: (-item[0], item[1]))
    widened = False
    if not scored or scored[0][0] < GOOD_ENOUGH or len(scored) < offset + limit:
        widened = True
        more = await _candidate_ids(session, parsed, widen=True, limit=wanted)
        seen = set(ids)
        scored += await _rank(session, ranker, [i for i in more if i not in seen], approved_only)
        scored.sort(key=lambda item: (-item[0], item[1]))
    page = scored[offset : offset + limit]
    records = {
        r.id: r
        for r in await session.scalars(
            select(BurialRecord).where(BurialRecord.id.in_([record_id for _s, record_id in page]))
        )
    }
    if stats is not None:
        stats.candidates = len(scored)
        stats.widened = widened
        stats.ms = (time.perf_counter() - started) * 1000
    return [Match(records[record_id], score) for score, record_id in page if record_id in records]


# A person reading results wants the record they asked for and its family, not every
# name that shares a few letters: a result is shown when the whole name answers the query
# well, or when its surname is of the same family as a word of the query.
WELL_ANSWERED = 0.8


async def plausible_records(
    session: AsyncSession, query: str, *, limit: int = 30
) -> list[BurialRecord]:
    """Approved records worth showing for `query`, best first. Raises EmptyQuery."""
    matches = await search_records(session, query, limit=limit)
    words = tuple(w for w in field_words(query))
    return [
        m.record
        for m in matches
        if m.score >= WELL_ANSWERED or any(same_family((w,), m.record.surname) for w in words)
    ]
