"""The benchmark's cost curve: what one meeting costs one member, and whether it is a night.

The curve (docs: ../shared/fairness-benchmark.md) prices each 30-minute block by how far it
lies outside a flat, free window (10:00-20:00 by default): up to 1 h outside costs 1, up to
2 h costs 2, then 4, 8, and 16 beyond 4 h. A member's stated hours replace the flat window, so
the ramps move with it. Blocks on a local Monday-Friday that overlap 09:00-18:00 cost 2 more
(work). A meeting costs the length-weighted mean of its blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MINUTES_PER_DAY = 1440
BLOCK_MINUTES = 30
WORK_PENALTY = 2
_NIGHT_END = 6 * 60
_WORK_START, _WORK_END = 9 * 60, 18 * 60
# (minutes outside the flat window, cost): the first row whose bound is not exceeded applies.
_BANDS: tuple[tuple[int, int], ...] = ((0, 0), (60, 1), (120, 2), (180, 4), (240, 8))
_FAR_COST = 16


@dataclass(frozen=True, slots=True)
class Window:
    """A daily window [start, end) in minutes after local midnight; end <= start wraps."""

    start: int
    end: int

    @property
    def length(self) -> int:
        span = (self.end - self.start) % MINUTES_PER_DAY
        return span or MINUTES_PER_DAY

    def distance(self, minute: float) -> float:
        """Minutes from `minute` to the nearest edge of the window (0 inside or on the edge)."""
        offset = (minute - self.start) % MINUTES_PER_DAY
        if offset <= self.length:
            return 0.0
        return min(offset - self.length, MINUTES_PER_DAY - offset)

    def contains_span(self, start: int, length: int) -> bool:
        """Whether [start, start + length) lies wholly inside the window."""
        return (start - self.start) % MINUTES_PER_DAY + length <= self.length

    def label(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


DEFAULT_FLAT = Window(10 * 60, 20 * 60)
# Members who state no hours count as "outside their hours" outside 09:00-21:00, the band the
# benchmark's %09-21 metric uses.
DEFAULT_COMFORT = Window(9 * 60, 21 * 60)


@dataclass(frozen=True, slots=True)
class CostProfile:
    """How one member group feels about local time: stated hours, or the default curve."""

    stated: Window | None = None

    @property
    def flat(self) -> Window:
        return self.stated or DEFAULT_FLAT

    @property
    def comfort(self) -> Window:
        return self.stated or DEFAULT_COMFORT


def _band(minutes_outside: float) -> int:
    for bound, cost in _BANDS:
        if minutes_outside <= bound:
            return cost
    return _FAR_COST


def _max_distance(window: Window, start: int, length: int) -> float:
    # The distance is piecewise linear with its peak in the middle of the outside arc, so the
    # maximum over a block is at one of its ends or at that peak.
    end = start + length
    worst = max(window.distance(start), window.distance(end))
    outside = MINUTES_PER_DAY - window.length
    if outside > 0:
        peak = window.end + outside / 2
        if (peak - start) % MINUTES_PER_DAY <= length:
            worst = max(worst, outside / 2)
    return worst


def block_cost(profile: CostProfile, weekday: int, start: int, length: int = BLOCK_MINUTES) -> int:
    """Cost of one block starting `start` minutes after local midnight on `weekday` (Mon=0)."""
    cost = _band(_max_distance(profile.flat, start, length))
    if weekday < 5 and max(start, _WORK_START) < min(start + length, _WORK_END):
        cost += WORK_PENALTY
    return cost


def block_is_night(profile: CostProfile, start: int, length: int = BLOCK_MINUTES) -> bool:
    """A block overlapping 00:00-06:00 is a night, unless the member said those hours suit them."""
    end = start + length
    touches_night = start < _NIGHT_END or end > MINUTES_PER_DAY
    if not touches_night:
        return False
    return profile.stated is None or not profile.stated.contains_span(start, length)


def split_blocks(duration: int) -> list[tuple[int, int]]:
    """(offset, length) of each block of a meeting; the last one may be shorter."""
    return [
        (offset, min(BLOCK_MINUTES, duration - offset))
        for offset in range(0, duration, BLOCK_MINUTES)
    ]


def cost_of_blocks(
    profile: CostProfile, blocks: Sequence[tuple[int, int, int]]
) -> tuple[float, bool]:
    """(mean cost, night) of blocks given as (local weekday, local start minute, length)."""
    total_length = sum(length for _, _, length in blocks)
    weighted = sum(block_cost(profile, wd, start, length) * length for wd, start, length in blocks)
    night = any(block_is_night(profile, start, length) for _, start, length in blocks)
    return weighted / total_length, night


@lru_cache(maxsize=200_000)
def meeting_cost(
    profile: CostProfile, weekday: int, start: int, duration: int
) -> tuple[float, bool]:
    """(cost, night) of a meeting at a constant UTC offset, from its local start."""
    blocks = []
    for offset, length in split_blocks(duration):
        minute = start + offset
        blocks.append(((weekday + minute // MINUTES_PER_DAY) % 7, minute % MINUTES_PER_DAY, length))
    return cost_of_blocks(profile, blocks)
