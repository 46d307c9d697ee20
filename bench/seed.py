"""Registered members written straight into the database, for benches and tests.

A real member gets there through the /start dialogue (`db.members.save_registration`); a
bench that needs thousands of them, or a test about something else, seeds them here instead.
The rows look registered the same way: `consent_at` and `registered_at` set, reachable, and
every column the dialogue does not ask for left to its model default (hours 09:00-21:00,
all reminders, memoir prompts on).

Rows go in as one Core INSERT per batch (executemany), not as ORM objects: on SQLite the
unit of work took about 3 s for 3,000 members and grew worse than linearly with the count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.member_cache import MemberCache
from db.models import Member
from db.types import utcnow

BATCH = 1000
_TABLE = Member.__table__
_COLUMNS = frozenset(_TABLE.c.keys())
# Set by the helper itself, or by the database: not for callers to give.
_MANAGED = frozenset({"id", "telegram_id", "consent_at", "registered_at"})

# vary(i, telegram_id) -> columns that differ for that member (locale, zone, ...).
Vary = Callable[[int, int], Mapping[str, Any]]


async def seed_members(
    session: AsyncSession,
    telegram_ids: Iterable[int],
    *,
    locale: str = "ru",
    zone: str | None = "Asia/Shanghai",
    name: str = "Member {i}",
    at: datetime | None = None,
    vary: Vary | None = None,
    batch: int = BATCH,
    **columns: Any,
) -> list[int]:
    """Insert one registered member per Telegram id; their member ids, in the same order.

    `telegram_ids` is usually `range(first_id, first_id + count)`. `name` is formatted with
    `i` (the position in `telegram_ids`) and `telegram_id`. `at` is both the consent and the
    registration time (default: now). `columns` sets any other Member column for everyone
    (country, city, hours_start, reachable, reminders...); `vary(i, telegram_id)` returns
    the columns that differ per member and overrides the rest. Every member must get the
    same set of columns from `vary`.

    Runs in the caller's transaction and does not commit. When the session belongs to an
    app with a member cache, the seeded ids are dropped from it (the cache learns of ORM
    writes only), so the app asks the database about them.
    """
    refused = (set(columns) - _COLUMNS) | (_MANAGED & set(columns))
    if refused:
        raise ValueError(f"not columns seed_members takes: {sorted(refused)}")
    at = at or utcnow()
    common = {
        "locale": locale,
        "zone": zone,
        "consent_at": at,
        "registered_at": at,
        "reachable": True,
        **columns,
    }
    # RETURNING both columns and matching them up: asking SQLAlchemy to keep the rows in
    # parameter order (sort_by_parameter_order) makes it send one INSERT per row on SQLite.
    statement = insert(_TABLE).returning(_TABLE.c.telegram_id, _TABLE.c.id)
    cache: MemberCache | None = session.info.get("member_cache")
    ids = iter(enumerate(telegram_ids))
    member_ids: list[int] = []
    while chunk := list(islice(ids, batch)):
        rows = []
        for i, telegram_id in chunk:
            row = {
                **common,
                "telegram_id": telegram_id,
                "name": name.format(i=i, telegram_id=telegram_id),
            }
            if vary is not None:
                row.update(vary(i, telegram_id))
            rows.append(row)
        returned = dict((await session.execute(statement, rows)).all())
        member_ids.extend(returned[telegram_id] for _, telegram_id in chunk)
        if cache is not None:
            cache.invalidate(telegram_id for _, telegram_id in chunk)
    return member_ids
