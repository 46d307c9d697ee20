"""The burden ledger in the database: the roster as the planner sees it, what each meeting
cost each member, and the fairness figures organisers read. Meetings record into it; the
monthly plan reads from it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BurdenEntry, Meeting, Member, MemberUnavailableDate
from scheduling.geo.stored_place import place_key
from scheduling.planner import roster
from scheduling.planner.cost import Window
from scheduling.planner.ledger import Ledger, ledger_from_rows
from scheduling.planner.options import Penalties, group_outcome
from scheduling.planner.roster import group_members


def month_of(instant: datetime) -> str:
    return f"{instant.year:04d}-{instant.month:02d}"


async def planner_roster(session: AsyncSession) -> list[roster.Member]:
    """Registered members as the planner sees them, keyed by member id.

    A member's `city` is their place key (scheduling.geo.stored_place): members of one
    city share it, and the plan's table names it in each reader's language.
    """
    members = list(
        await session.scalars(
            select(Member).where(Member.registered_at.is_not(None), Member.zone.is_not(None))
        )
    )
    blocked: dict[int, set] = defaultdict(set)
    for member_id, day in await session.execute(
        select(MemberUnavailableDate.member_id, MemberUnavailableDate.day)
    ):
        blocked[member_id].add(day)
    return [
        roster.Member(
            key=m.id,
            city=place_key(m.place_id, m.city, m.zone, m.country),
            zone=m.zone or "UTC",
            hours=Window(m.hours_start, m.hours_end),
            country=m.country,
            unavailable_dates=frozenset(blocked.get(m.id, ())),
        )
        for m in members
    ]


async def planner_ledger(session: AsyncSession) -> Ledger:
    rows = await session.execute(
        select(BurdenEntry.member_id, BurdenEntry.month, BurdenEntry.cost, BurdenEntry.night)
    )
    return ledger_from_rows((key, month, cost, night) for key, month, cost, night in rows)


async def record_meeting_burden(session: AsyncSession, meeting: Meeting) -> int:
    """Enter what this meeting costs each member into the ledger (replacing an earlier entry).

    The caller commits, so the meeting and its ledger entries land together.
    """
    await session.execute(delete(BurdenEntry).where(BurdenEntry.meeting_id == meeting.id))
    month = month_of(meeting.starts_at)
    # A member has one entry per month: a second meeting in the month replaces the first.
    await session.execute(delete(BurdenEntry).where(BurdenEntry.month == month))
    count = 0
    penalties = Penalties()
    for group in group_members(await planner_roster(session)):
        outcome = group_outcome(group, meeting.starts_at, meeting.duration_min, penalties)
        for key in group.members:
            session.add(
                BurdenEntry(
                    meeting_id=meeting.id,
                    member_id=int(key),
                    cost=outcome.cost,
                    night=outcome.night,
                    month=month,
                )
            )
            count += 1
    await session.flush()
    return count


async def forget_meeting_burden(session: AsyncSession, meeting: Meeting) -> None:
    """A cancelled meeting burdens nobody."""
    await session.execute(delete(BurdenEntry).where(BurdenEntry.meeting_id == meeting.id))


@dataclass(frozen=True)
class PlaceBurden:
    place: str  # a place key: scheduling.geo.stored_place.key_label names it per reader
    members: int
    burden: float  # mean cumulative cost per member over the period
    nights: int  # member-nights over the period


async def fairness_by_place(session: AsyncSession, last_meetings: int = 12) -> list[PlaceBurden]:
    """Cumulative burden and nights per place over the last meetings, heaviest first.

    Grouped by place key, so 'Harbin', 'Харбин' and '哈尔滨' typed by three members are one.
    """
    meeting_ids = list(
        await session.scalars(
            select(Meeting.id)
            .where(Meeting.status == "scheduled", Meeting.kind == "monthly")  # not events
            .order_by(Meeting.starts_at.desc())
            .limit(last_meetings)
        )
    )
    rows = await session.execute(
        select(
            Member.place_id,
            Member.city,
            Member.zone,
            Member.country,
            Member.id,
            BurdenEntry.cost,
            BurdenEntry.night,
        )
        .join(Member, Member.id == BurdenEntry.member_id)
        .where(BurdenEntry.meeting_id.in_(meeting_ids))
    )
    cost: dict[str, float] = defaultdict(float)
    nights: dict[str, int] = defaultdict(int)
    people: dict[str, set[int]] = defaultdict(set)
    for place_id, city, zone, country, member_id, entry_cost, night in rows:
        place = place_key(place_id, city, zone, country)
        cost[place] += entry_cost
        nights[place] += int(night)
        people[place].add(member_id)
    result = [
        PlaceBurden(place, len(people[place]), cost[place] / len(people[place]), nights[place])
        for place in people
    ]
    return sorted(result, key=lambda p: (-p.burden, p.place))
