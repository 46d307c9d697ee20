"""English rendering of plans: local-time tables and the one-sentence reason.

The chat layer translates `Reason.code` + `Reason.params` itself; these texts are the English
reference and what the offline command prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from scheduling.planner.results import LocalRow, MonthPlan, Reason, SlotOption


def local_time(moment: datetime) -> str:
    """'Sat 02 Jan 10:00 (UTC+03:00)'-style text of an aware local datetime."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{moment:%a %d %b %H:%M} (UTC{sign}{hours:02d}:{rest:02d})"


def utc_text(moment: datetime) -> str:
    return f"{moment:%a %d %b %Y %H:%M} UTC"


def _plural(count: int, word: str) -> str:
    if count == 0:
        return f"no {word}s"
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def row_notes(row: LocalRow) -> str:
    notes = []
    if row.night:
        notes.append(f"night for {row.night}")
    if row.outside_hours:
        notes.append(f"outside hours for {row.outside_hours}")
    if row.holiday:
        notes.append(f"public holiday for {row.holiday}")
    if row.unavailable:
        notes.append(f"cannot come: {row.unavailable}")
    return "; ".join(notes)


def render_table(option: SlotOption) -> list[str]:
    """One line per city: local day and time, members, who is at night or outside hours."""
    width = max((len(row.city) for row in option.rows), default=4)
    lines = []
    for row in option.rows:
        notes = row_notes(row)
        line = f"  {row.city:<{width}}  {local_time(row.local_start)}  {row.members:>3}"
        lines.append(f"{line}  {notes}" if notes else line)
    return lines


_REASONS: Mapping[str, str] = {
    "night_back_to_back": (
        "{city} had a night-time meeting last month; this slot gives them {local_time} "
        "instead of {runner_up_time}."
    ),
    "night_cap": (
        "{city} had {nights} this year (limit {cap}); this slot gives them {local_time} "
        "instead of {runner_up_time}."
    ),
    "later_back_to_back": (
        "The runner-up plan would give {city} night-time meetings in consecutive months "
        "({first_month} and {second_month}); this plan avoids that."
    ),
    "later_night_cap": (
        "The runner-up plan would give {city} {runner_up_nights} night-time meetings in "
        "{year} (limit {cap}); this plan keeps them within it."
    ),
    "fairer": (
        "{city} had {nights} this year; this slot gives them {local_time} instead of "
        "{runner_up_time} and keeps the heaviest burden at {max_burden} "
        "(runner-up: {runner_up_max_burden})."
    ),
    "lighter": (
        "{city} had {nights} this year; this slot gives them {local_time} instead of "
        "{runner_up_time}, equally fair but lighter on average "
        "({mean_burden} vs {runner_up_mean_burden})."
    ),
    "earlier": "Both are equally fair and light overall; the earlier slot wins the tie.",
    "only_option": "This is the only slot the rules allow this month.",
}


def render_reason(reason: Reason) -> str:
    params = dict(reason.params)
    if "nights_this_year" in params:
        params["nights"] = _plural(int(params["nights_this_year"]), "night")
    return _REASONS[reason.code].format(**params)


def render_month(plan: MonthPlan) -> list[str]:
    choice = plan.choice
    lines = [
        f"{plan.month}: {utc_text(choice.start_utc)}"
        f"  (window burden: max {choice.projected_max_burden:g},"
        f" mean {choice.projected_mean_burden:g})",
        *render_table(choice),
        f"  Why: {render_reason(plan.reason)}",
    ]
    for number, other in enumerate(plan.runners_up, start=2):
        breaks = f", breaks night limits for {other.night_rule_breaks}" * bool(
            other.night_rule_breaks
        )
        lines.append(
            f"  #{number}: {utc_text(other.start_utc)}  (max {other.projected_max_burden:g},"
            f" mean {other.projected_mean_burden:g}, at night: {other.night_members}{breaks})"
        )
    if plan.tentative:
        later = ", ".join(f"{t.month} {t.start_utc:%d %H:%M}" for t in plan.tentative)
        lines.append(f"  Tentative (UTC): {later}")
    return lines
