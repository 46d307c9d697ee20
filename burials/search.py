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

import time
from dataclasses import dataclass

from sqlalchemy import Float, Integer, String, case, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from burials.dates import year_of
from burials.names.query import EmptyQuery, Query, parse_query
from burials.names.ranking import NameFields, Ranker
from burials.records import APPROVED, KIND_GIVEN, KIND_PATRONYMIC, KIND_SURNAME, KIND_YEAR
from db.models import BurialNameKey, BurialRecord

__all__ = ["EmptyQuery", "Match", "SearchStats", "search_records"]

CANDIDATES = 300
# Below this score the exact keys are deemed not to have found the person.
GOOD_ENOUGH = 0.9
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


def _probe_rows(query: Query, widen: bool) -> list[tuple[str, int, float]]:
    """(key, word number, weight) for the VALUES list the database joins with."""
    rows: dict[tuple[str, int], float] = {}
    word_number = 0
    for reading in query.readings:
        for word in reading:
            for key in word.keys:
                rows[(key, word_number)] = EXACT
            if widen:
                for key in word.keys:
                    if len(key.lstrip("A")) >= MIN_KEY_FOR_TYPOS:
                        for near in near_keys(key):
                            rows.setdefault((near, word_number), NEAR)
            word_number += 1
    for year in query.years:
        rows[(str(year), word_number)] = EXACT
        word_number += 1
    return [(key, number, weight) for (key, number), weight in rows.items()]


async def _candidate_ids(
    session: AsyncSession, query: Query, *, widen: bool, approved_only: bool, limit: int
) -> list[int]:
    probes = _probe_rows(query, widen)
    if not probes:
        return []
    probe = (
        values(
            column("key", String), column("word", Integer), column("weight", Float), name="probe"
        )
        .data(probes)
        .cte("probe")
    )
    kind_weight = case(
        (BurialNameKey.kind == KIND_SURNAME, 3.0),
        (BurialNameKey.kind == KIND_GIVEN, 2.0),
        (BurialNameKey.kind == KIND_PATRONYMIC, 1.0),
        (BurialNameKey.kind == KIND_YEAR, 1.0),
        else_=0.0,
    )
    per_word = (
        select(
            BurialNameKey.record_id.label("record_id"),
            func.max(probe.c.weight * kind_weight).label("best"),
        )
        .join(probe, BurialNameKey.key == probe.c.key)
        .group_by(BurialNameKey.record_id, probe.c.word)
        .subquery()
    )
    total = func.sum(per_word.c.best)
    statement = select(per_word.c.record_id).group_by(per_word.c.record_id)
    if approved_only:
        statement = statement.join(BurialRecord, BurialRecord.id == per_word.c.record_id).where(
            BurialRecord.status == APPROVED
        )
    statement = statement.order_by(total.desc(), per_word.c.record_id).limit(limit)
    return list(await session.scalars(statement))


async def _rank(session: AsyncSession, ranker: Ranker, ids: list[int]) -> list[tuple[float, int]]:
    if not ids:
        return []
    rows = await session.execute(
        select(
            BurialRecord.id,
            BurialRecord.surname,
            BurialRecord.given_names,
            BurialRecord.patronymic,
            BurialRecord.born,
            BurialRecord.died,
        ).where(BurialRecord.id.in_(ids))
    )
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
    parsed = parse_query(query)
    ranker = Ranker(parsed)
    wanted = max(CANDIDATES, 3 * (offset + limit))
    ids = await _candidate_ids(
        session, parsed, widen=False, approved_only=approved_only, limit=wanted
    )
    scored = await _rank(session, ranker, ids)
    scored.sort(key=lambda item: (-item[0], item[1]))
    widened = False
    if not scored or scored[0][0] < GOOD_ENOUGH or len(scored) < offset + limit:
        widened = True
        more = await _candidate_ids(
            session, parsed, widen=True, approved_only=approved_only, limit=wanted
        )
        seen = set(ids)
        scored += await _rank(session, ranker, [i for i in more if i not in seen])
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
