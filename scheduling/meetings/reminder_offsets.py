"""Reminder offsets ("7d", "1d", "1h", "0") and the outbox kinds they become."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_OFFSETS = ("7d", "1d", "1h", "0")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offset(token: str) -> timedelta:
    """'7d' -> 7 days, '90m' -> 90 minutes, '0' -> at the start."""
    token = token.strip().lower()
    if token == "0":
        return timedelta(0)
    if len(token) < 2 or token[-1] not in _UNITS or not token[:-1].isdigit():
        raise ValueError(f"not a reminder offset: {token!r} (use forms like 7d, 1d, 1h, 30m, 0)")
    return timedelta(**{_UNITS[token[-1]]: int(token[:-1])})


def parse_offsets(text: str) -> tuple[str, ...]:
    tokens = tuple(t.strip().lower() for t in text.split(",") if t.strip())
    for token in tokens:
        parse_offset(token)
    return tokens


def reminder_kind(token: str) -> str:
    return f"remind:{token}"


def offset_of_kind(kind: str) -> str | None:
    return kind.removeprefix("remind:") if kind.startswith("remind:") else None
