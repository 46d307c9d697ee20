"""Exceptions the planner raises for bad input, each carrying a message a person can act on."""

from __future__ import annotations


class PlanningError(Exception):
    """Base class: anything the CLI or the chat layer should show as one plain line."""


class RosterError(PlanningError):
    """A roster row (or the roster as a whole) cannot be used."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        where = f"roster line {line}" if line is not None else "roster"
        super().__init__(f"{where}: {reason}")


class RulesError(PlanningError):
    """The club's rules (weekdays, step, duration, weeks, zone) are inconsistent."""


class NoSlotError(PlanningError):
    """A month offers no slot the rules allow, or every member is blocked on every slot."""

    def __init__(self, month: str, reason: str) -> None:
        self.month = month
        self.reason = reason
        super().__init__(f"{month}: {reason}")
