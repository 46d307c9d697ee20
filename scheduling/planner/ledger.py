"""The per-member burden ledger: what each past meeting cost each member, and if it was a night.

Plain data only; the bot's database layer persists it. Keys are stable member keys (id or name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scheduling.planner.months import YearMonth
from scheduling.planner.options import Penalties, group_outcome
from scheduling.planner.roster import Member, MemberKey, group_members


@dataclass(frozen=True, slots=True)
class BurdenEntry:
    month: YearMonth
    cost: float
    night: bool
    # Months since year 0, so the planner compares plain ints when reading 100k histories.
    month_index: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "month_index", self.month.year * 12 + self.month.month - 1)


@dataclass(frozen=True, slots=True)
class MemberBurden:
    """One member's history, oldest first."""

    entries: tuple[BurdenEntry, ...] = ()

    def cost_since(self, first: YearMonth, before: YearMonth) -> float:
        return sum(e.cost for e in self.entries if first <= e.month < before)

    def nights_in_year(self, year: int, before: YearMonth) -> int:
        return sum(1 for e in self.entries if e.night and e.month.year == year and e.month < before)

    def night_in(self, month: YearMonth) -> bool:
        return any(e.night and e.month == month for e in self.entries)

    def with_entry(self, entry: BurdenEntry) -> MemberBurden:
        if not self.entries or self.entries[-1].month_index < entry.month_index:
            return MemberBurden((*self.entries, entry))  # the usual case: a new month
        kept = tuple(e for e in self.entries if e.month != entry.month)  # re-recording replaces
        return MemberBurden(tuple(sorted((*kept, entry), key=lambda e: e.month_index)))


Ledger = Mapping[MemberKey, MemberBurden]


def record_meeting(
    ledger: Ledger,
    members: Sequence[Member],
    month: YearMonth | str,
    start_utc: datetime,
    duration: int,
    penalties: Penalties | None = None,
) -> dict[MemberKey, MemberBurden]:
    """A new ledger with this month's meeting (held at `start_utc`) added for every member.

    Recording a month again replaces that month's entry, so a rescheduled meeting is fine.
    """
    penalties = penalties or Penalties()
    month = YearMonth.parse(month)
    updated = dict(ledger)
    for group in group_members(members):
        outcome = group_outcome(group, start_utc, duration, penalties)
        entry = BurdenEntry(month, outcome.cost, outcome.night)
        for key in group.members:
            updated[key] = updated.get(key, MemberBurden()).with_entry(entry)
    return updated


def ledger_from_rows(rows: Iterable[tuple[MemberKey, str, float, bool]]) -> dict:
    """Build a ledger from stored rows (member key, 'YYYY-MM', cost, night)."""
    entries: dict[MemberKey, list[BurdenEntry]] = {}
    for key, month, cost, night in rows:
        entries.setdefault(key, []).append(BurdenEntry(YearMonth.parse(month), cost, night))
    return {
        key: MemberBurden(tuple(sorted(items, key=lambda e: e.month)))
        for key, items in entries.items()
    }
