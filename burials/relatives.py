"""The search for relatives: the families members look for, the records and memoirs that
answer them, and introductions between members who look for the same family.

Everything a member hears goes through the outbox (notices.py writes it in their
language when it is sent):
- a new wish is matched at once against approved records and memoirs; a record or memoir
  approved later is matched against every wish then (`match_record`, `match_memoir`);
  each member hears of each record or memoir once (`relative_matches` is unique per
  member), and never of what they added or wrote themselves;
- a new wish that meets another member's wish for the same family opens an introduction:
  each is asked, and nothing about either is shown to the other before both say yes.

Plain async functions on the caller's session: they add and flush, never commit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from burials.names.family import surname_keys
from burials.names.words import field_words
from burials.records import APPROVED, KIND_SURNAME
from burials.seeking import (
    Wanted,
    WishError,
    like_patterns,
    memoir_fits,
    memoir_text,
    parse_years,
    record_fits,
    wanted,
    wishes_meet,
)
from db.models import (
    BurialNameKey,
    BurialRecord,
    Memoir,
    OutboxMessage,
    RelativeIntroduction,
    RelativeMatch,
    RelativeWish,
)
from ground.i18n import N_

MAX_WISHES = 20
MAX_SURNAME = 100
MAX_PLACE = 100
# More matches than this for one wish at once (a new wish for a common name, an imported
# list) become one message with the count.
AT_ONCE = 5
MEMOIRS_APPROVED = "approved"  # archive.memoirs.APPROVED (a domain does not import another)

KIND_PREFIX = "relatives:"
KIND_MATCH = KIND_PREFIX + "match:"
KIND_MANY = KIND_PREFIX + "many:"
KIND_ASK = KIND_PREFIX + "ask:"
KIND_MET = KIND_PREFIX + "met:"
KIND_DECLINED = KIND_PREFIX + "declined:"
KIND_NOTE = KIND_PREFIX + "note:"

MAX_NAME = 64
MAX_NOTE = 1500


def _queue(
    session: AsyncSession, member_id: int, kind: str, now: datetime, payload: object = None
) -> None:
    session.add(
        OutboxMessage(
            member_id=member_id,
            kind=kind,
            due_at=now,
            payload=None if payload is None else json.dumps(payload, ensure_ascii=False),
        )
    )


def want_of(wish: RelativeWish) -> Wanted:
    years = (wish.year_from, wish.year_to) if wish.year_from and wish.year_to else None
    return wanted(wish.surname, wish.place, years)


# ---------------------------------------------------------------------- wishes


@dataclass(frozen=True)
class WishAdded:
    wish: RelativeWish
    matches: int  # records and memoirs found at once
    introductions: int  # other members asked about this family


def _clean(text: str | None, limit: int) -> str | None:
    value = " ".join((text or "").split())
    if len(value) > limit:
        raise WishError(N_("Please keep it under {limit} characters."), limit=limit)
    return value or None


def check_surname(surname: str) -> str:
    """The surname cleaned; WishError when it is too long or has no letters."""
    name = _clean(surname, MAX_SURNAME)
    if not name or not field_words(name):
        raise WishError(N_("Please type a surname in letters, e.g. Щукин, Shchukin or 休金."))
    return name


async def list_wishes(session: AsyncSession, member_id: int) -> list[RelativeWish]:
    rows = await session.scalars(
        select(RelativeWish).where(RelativeWish.member_id == member_id).order_by(RelativeWish.id)
    )
    return list(rows)


async def add_wish(
    session: AsyncSession,
    member_id: int,
    surname: str,
    *,
    place: str | None = None,
    years: str | None = None,
    now: datetime,
) -> WishAdded:
    """Checks and stores a wish, matches it at once, and opens introductions."""
    name = check_surname(surname)
    span = parse_years(years) if years and years.strip() else None
    where = _clean(place, MAX_PLACE)
    mine = await list_wishes(session, member_id)
    if len(mine) >= MAX_WISHES:
        raise WishError(
            N_("You already look for {count} families; please remove one first."),
            count=len(mine),
        )
    for old in mine:
        same = (old.surname.casefold(), old.place, old.year_from, old.year_to)
        if same == (name.casefold(), where, *(span or (None, None))):
            raise WishError(N_("«{surname}» is already in your list."), surname=name)
    wish = RelativeWish(
        member_id=member_id,
        surname=name,
        place=where,
        year_from=span[0] if span else None,
        year_to=span[1] if span else None,
    )
    session.add(wish)
    await session.flush()
    found = await _match_new_wish(session, wish, now)
    introductions = await _introduce(session, wish, now)
    return WishAdded(wish, found, introductions)


async def remove_wish(session: AsyncSession, member_id: int, wish_id: int) -> bool:
    """Its matches and open introductions go with it (the database cascades)."""
    result = await session.execute(
        delete(RelativeWish).where(RelativeWish.id == wish_id, RelativeWish.member_id == member_id)
    )
    await session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- matching


async def _already_matched(
    session: AsyncSession,
    member_id: int,
    *,
    records: Iterable[int] = (),
    memoirs: Iterable[int] = (),
) -> tuple[set[int], set[int]]:
    rows = await session.execute(
        select(RelativeMatch.record_id, RelativeMatch.memoir_id).where(
            RelativeMatch.member_id == member_id,
            or_(
                RelativeMatch.record_id.in_(list(records)),
                RelativeMatch.memoir_id.in_(list(memoirs)),
            ),
        )
    )
    known_records: set[int] = set()
    known_memoirs: set[int] = set()
    for record_id, memoir_id in rows:
        if record_id is not None:
            known_records.add(record_id)
        if memoir_id is not None:
            known_memoirs.add(memoir_id)
    return known_records, known_memoirs


async def _record_candidates(
    session: AsyncSession, want: Wanted, member_id: int
) -> list[BurialRecord]:
    keys = {key for word in want.words for key in word.keys}
    if not keys:
        return []
    ids = select(BurialNameKey.record_id).where(
        BurialNameKey.kind == KIND_SURNAME, BurialNameKey.key.in_(sorted(keys))
    )
    rows = await session.scalars(
        select(BurialRecord)
        .where(
            BurialRecord.id.in_(ids),
            BurialRecord.status == APPROVED,
            or_(BurialRecord.added_by.is_(None), BurialRecord.added_by != member_id),
        )
        .order_by(BurialRecord.id)
    )
    return [r for r in rows if record_fits(want, r)]


async def _memoir_candidates(session: AsyncSession, want: Wanted, member_id: int) -> list[Memoir]:
    patterns = like_patterns(want)
    if not patterns:
        return []
    rows = await session.scalars(
        select(Memoir)
        .where(
            Memoir.status == MEMOIRS_APPROVED,
            or_(Memoir.member_id.is_(None), Memoir.member_id != member_id),
            or_(*(Memoir.search_text.contains(p, autoescape=True) for p in patterns)),
        )
        .order_by(Memoir.id)
    )
    return [m for m in rows if memoir_fits(want, memoir_text(m))]


async def _match_new_wish(session: AsyncSession, wish: RelativeWish, now: datetime) -> int:
    want = want_of(wish)
    records = await _record_candidates(session, want, wish.member_id)
    memoirs = await _memoir_candidates(session, want, wish.member_id)
    known_records, known_memoirs = await _already_matched(
        session, wish.member_id, records=[r.id for r in records], memoirs=[m.id for m in memoirs]
    )
    new = [
        RelativeMatch(wish_id=wish.id, member_id=wish.member_id, record_id=r.id)
        for r in records
        if r.id not in known_records
    ] + [
        RelativeMatch(wish_id=wish.id, member_id=wish.member_id, memoir_id=m.id)
        for m in memoirs
        if m.id not in known_memoirs
    ]
    if not new:
        return 0
    session.add_all(new)
    await session.flush()
    await _notify(session, new, now)
    return len(new)


async def _notify(session: AsyncSession, matches: list[RelativeMatch], now: datetime) -> None:
    """A notice per match; but more than AT_ONCE for one wish at once (a new wish for a
    common name, an imported list) become one message with the count, added to that
    wish's summary still waiting to be sent if there is one."""
    by_wish: dict[int, list[RelativeMatch]] = defaultdict(list)
    for match in matches:
        by_wish[match.wish_id].append(match)
    many = {f"{KIND_MANY}{w}": found for w, found in by_wish.items() if len(found) > AT_ONCE}
    waiting = (
        {
            row.kind: row
            for row in await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind.in_(sorted(many)),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.claimed_until.is_(None),
                    OutboxMessage.dropped.is_(False),
                )
            )
        }
        if many
        else {}
    )
    for wish_id, found in sorted(by_wish.items()):
        kind = f"{KIND_MANY}{wish_id}"
        if kind not in many:
            for match in found:
                _queue(session, match.member_id, f"{KIND_MATCH}{match.id}", now)
        elif kind in waiting:
            earlier = json.loads(waiting[kind].payload or "{}").get("count", 0)
            waiting[kind].payload = json.dumps({"count": int(earlier) + len(found)})
        else:
            _queue(session, found[0].member_id, kind, now, {"count": len(found)})


async def _wishes_by_key(session: AsyncSession) -> dict[str, list[RelativeWish]]:
    index: dict[str, list[RelativeWish]] = defaultdict(list)
    for wish in await session.scalars(select(RelativeWish).order_by(RelativeWish.id)):
        for key in surname_keys(wish.surname):
            index[key].append(wish)
    return index


async def _tell(
    session: AsyncSession,
    column: InstrumentedAttribute[int | None],
    found: dict[int, dict[int, RelativeWish]],
    now: datetime,
) -> int:
    """One match and one notice per member not yet told of each record (or memoir).

    `found`: record or memoir id -> member id -> the wish that found it. Read and written
    in one go, so an import's batch costs a few statements, not a few per record."""
    found = {subject: members for subject, members in found.items() if members}
    if not found:
        return 0
    members = {member_id for by_member in found.values() for member_id in by_member}
    told = {
        (subject, member_id)
        for subject, member_id in await session.execute(
            select(column, RelativeMatch.member_id).where(
                column.in_(list(found)), RelativeMatch.member_id.in_(list(members))
            )
        )
    }
    new = [
        RelativeMatch(wish_id=wish.id, member_id=member_id, **{column.key: subject})
        for subject, by_member in sorted(found.items())
        for member_id, wish in sorted(by_member.items())
        if (subject, member_id) not in told
    ]
    session.add_all(new)
    await session.flush()
    await _notify(session, new, now)
    return len(new)


async def _match_against(
    session: AsyncSession,
    index: dict[str, list[RelativeWish]],
    records: Iterable[BurialRecord],
    now: datetime,
) -> int:
    found: dict[int, dict[int, RelativeWish]] = {}
    for record in records:
        if record.status != APPROVED:
            continue
        by_member: dict[int, RelativeWish] = {}
        for key in sorted(surname_keys(record.surname)):
            for wish in index.get(key, ()):
                if wish.member_id == record.added_by or wish.member_id in by_member:
                    continue
                if record_fits(want_of(wish), record):
                    by_member[wish.member_id] = wish
        found[record.id] = by_member
    return await _tell(session, RelativeMatch.record_id, found, now)


async def match_records(
    session: AsyncSession, records: Iterable[BurialRecord], now: datetime
) -> int:
    """Newly approved records against every wish. Returns the number of notices queued."""
    index = await _wishes_by_key(session)
    return await _match_against(session, index, records, now) if index else 0


async def match_record_ids(session: AsyncSession, ids: list[int], now: datetime) -> int:
    """The same for an import's batch: the records are read only if anyone is looking."""
    index = await _wishes_by_key(session)
    if not index or not ids:
        return 0
    records = await session.scalars(select(BurialRecord).where(BurialRecord.id.in_(ids)))
    return await _match_against(session, index, list(records), now)


async def match_record(session: AsyncSession, record: BurialRecord, now: datetime) -> int:
    return await match_records(session, [record], now)


async def match_memoir(session: AsyncSession, memoir: Memoir, now: datetime) -> int:
    """A memoir just approved against every wish. Returns the number of members told."""
    if memoir.status != MEMOIRS_APPROVED:
        return 0
    wishes = list(await session.scalars(select(RelativeWish).order_by(RelativeWish.id)))
    if not wishes:
        return 0
    text = memoir_text(memoir)
    found: dict[int, RelativeWish] = {}
    for wish in wishes:
        if wish.member_id == memoir.member_id or wish.member_id in found:
            continue
        if memoir_fits(want_of(wish), text):
            found[wish.member_id] = wish
    return await _tell(session, RelativeMatch.memoir_id, {memoir.id: found}, now)


# ---------------------------------------------------------------------- introductions


async def _introduce(session: AsyncSession, wish: RelativeWish, now: datetime) -> int:
    """Other members looking for the same family: one introduction per pair of members,
    ever (a pair asked once is not asked again for another spelling)."""
    keys = surname_keys(wish.surname)
    if not keys:
        return 0
    mine = want_of(wish)
    others = [
        other
        for other in await session.scalars(
            select(RelativeWish)
            .where(RelativeWish.member_id != wish.member_id)
            .order_by(RelativeWish.id)
        )
        if surname_keys(other.surname) & keys and wishes_meet(mine, want_of(other))
    ]
    opened = 0
    seen: set[int] = set()
    for other in others:
        if other.member_id in seen:
            continue
        seen.add(other.member_id)
        a, b = sorted(((wish.member_id, wish.id), (other.member_id, other.id)))
        exists = await session.scalar(
            select(func.count())
            .select_from(RelativeIntroduction)
            .where(RelativeIntroduction.member_a == a[0], RelativeIntroduction.member_b == b[0])
        )
        if exists:
            continue
        intro = RelativeIntroduction(member_a=a[0], wish_a=a[1], member_b=b[0], wish_b=b[1])
        session.add(intro)
        await session.flush()
        for member_id in (a[0], b[0]):
            _queue(session, member_id, f"{KIND_ASK}{intro.id}", now)
        opened += 1
    return opened


@dataclass(frozen=True)
class Side:
    """One member's view of an introduction: their own fields and the other's."""

    intro: RelativeIntroduction
    is_a: bool

    @property
    def member_id(self) -> int:
        return self.intro.member_a if self.is_a else self.intro.member_b

    @property
    def other_id(self) -> int:
        return self.intro.member_b if self.is_a else self.intro.member_a

    @property
    def wish_id(self) -> int:
        return self.intro.wish_a if self.is_a else self.intro.wish_b

    def mine(self, field: str) -> object:
        return getattr(self.intro, ("a_" if self.is_a else "b_") + field)

    def theirs(self, field: str) -> object:
        return getattr(self.intro, ("b_" if self.is_a else "a_") + field)

    def set_mine(self, field: str, value: object) -> None:
        setattr(self.intro, ("a_" if self.is_a else "b_") + field, value)

    @property
    def both_agreed(self) -> bool:
        return self.intro.a_answer is True and self.intro.b_answer is True

    @property
    def declined(self) -> bool:
        return self.intro.a_answer is False or self.intro.b_answer is False


async def side_of(session: AsyncSession, intro_id: int, member_id: int) -> Side | None:
    """The member's side of the introduction; None if it is gone or not theirs."""
    intro = await session.get(RelativeIntroduction, intro_id, populate_existing=True)
    if intro is None or member_id not in (intro.member_a, intro.member_b):
        return None
    return Side(intro, intro.member_a == member_id)


async def wish_surname(session: AsyncSession, wish_id: int) -> str:
    return str(
        await session.scalar(select(RelativeWish.surname).where(RelativeWish.id == wish_id)) or ""
    )


# What `answer` did.
WAITING, MET, DECLINED, CLOSED = "waiting", "met", "declined", "closed"


async def answer(
    session: AsyncSession,
    side: Side,
    agree: bool,
    now: datetime,
    *,
    name: str | None = None,
    link: str | None = None,
) -> str:
    """Records one member's answer. Both yes: each is sent the other's name and a way to
    write. A no closes it; a member who had said yes hears that nothing was shared."""
    if side.mine("answer") is not None or side.declined:
        return DECLINED if side.declined else (MET if side.both_agreed else WAITING)
    if agree:
        clean = " ".join((name or "").split())[:MAX_NAME]
        if not clean:
            raise WishError(N_("Please type the name the other member should see."))
        side.set_mine("name", clean)
        side.set_mine("link", link.lstrip("@")[:MAX_NAME] if link else None)
    side.set_mine("answer", agree)
    await session.flush()
    if not agree:
        if side.theirs("answer") is True:
            _queue(session, side.other_id, f"{KIND_DECLINED}{side.intro.id}", now)
        return DECLINED
    if side.both_agreed:
        for member_id in (side.intro.member_a, side.intro.member_b):
            _queue(session, member_id, f"{KIND_MET}{side.intro.id}", now)
        return MET
    return WAITING


async def relay(session: AsyncSession, side: Side, text: str, now: datetime) -> bool:
    """Passes one message to the other member, who shared no link; False if already used
    or not allowed (not both agreed)."""
    if not side.both_agreed or side.mine("wrote") or side.theirs("link"):
        return False
    body = text.strip()[:MAX_NOTE]
    if not body:
        raise WishError(N_("The message seems to be empty. Please write a few words."))
    side.set_mine("wrote", True)
    _queue(session, side.other_id, f"{KIND_NOTE}{side.intro.id}", now, {"text": body})
    await session.flush()
    return True


def can_relay(side: Side) -> bool:
    return side.both_agreed and not side.mine("wrote") and not side.theirs("link")


def kind_id(kind: str) -> int | None:
    tail = kind.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None
