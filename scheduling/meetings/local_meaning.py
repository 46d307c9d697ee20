"""What a fixed hour means for one member: their local start and end, whether it falls in
their night, and whether it lies outside the hours they said suit them.

The words are the planner's own (scheduling/planner/cost.py): a night is a half-hour block
touching 00:00-06:00 local time, unless the member said those hours suit them; "their
hours" is the window on their Member row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member
from scheduling.geo import localtime
from scheduling.planner.cost import CostProfile, Window, cost_of_blocks, split_blocks


@dataclass(frozen=True)
class LocalPicture:
    local_start: datetime
    local_end: datetime
    night: bool
    outside_hours: bool


def local_picture(
    starts_at: datetime, duration_min: int, zone: str, hours_start: int, hours_end: int
) -> LocalPicture:
    profile = CostProfile(stated=Window(hours_start, hours_end))
    blocks = []
    for offset, length in split_blocks(max(duration_min, 1)):
        local = localtime.to_local(starts_at + timedelta(minutes=offset), zone)
        blocks.append((local.weekday(), local.hour * 60 + local.minute, length))
    _cost, night = cost_of_blocks(profile, blocks)
    local_start = localtime.to_local(starts_at, zone)
    start_minute = local_start.hour * 60 + local_start.minute
    return LocalPicture(
        local_start=local_start,
        local_end=localtime.to_local(starts_at + timedelta(minutes=duration_min), zone),
        night=night,
        outside_hours=not profile.comfort.contains_span(start_minute, max(duration_min, 1)),
    )


@dataclass(frozen=True)
class HourToll:
    """What a fixed hour means for the club as a whole."""

    members: int
    nights: int
    outside_hours: int  # including the nights


async def hour_toll(session: AsyncSession, starts_at: datetime, duration_min: int) -> HourToll:
    """How many registered members a fixed hour puts at night or outside their hours."""
    rows = await session.execute(
        select(Member.zone, Member.hours_start, Member.hours_end).where(
            Member.registered_at.is_not(None), Member.reachable.is_(True)
        )
    )
    members = nights = outside = 0
    for zone, start, end in rows:
        picture = local_picture(starts_at, duration_min, zone or "UTC", start, end)
        members += 1
        nights += picture.night
        outside += picture.outside_hours or picture.night
    return HourToll(members, nights, outside)
