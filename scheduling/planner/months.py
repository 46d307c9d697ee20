"""Calendar months as small immutable values ("2027-01"), so plans can step month by month."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from scheduling.planner.errors import PlanningError

_MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True, slots=True)
class YearMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | YearMonth) -> YearMonth:
        if isinstance(text, YearMonth):
            return text
        match = _MONTH_PATTERN.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PlanningError(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2027-01")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> YearMonth:
        return cls(day.year, day.month)

    def shifted(self, months: int) -> YearMonth:
        index = self.year * 12 + (self.month - 1) + months
        return YearMonth(index // 12, index % 12 + 1)

    def months_since(self, other: YearMonth) -> int:
        return (self.year - other.year) * 12 + (self.month - other.month)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
