"""A message to a person as plain data: its text and the buttons under it.

Domains say what a button means (`action` and its `args`); the Telegram interface turns
that into callback data (handlers/outbound.py), so no domain knows Telegram's formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Arg = str | int | bool


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


def rows_of(buttons: Iterable[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    """Buttons laid out `width` to a row."""
    flat = list(buttons)
    return tuple(tuple(flat[i : i + width]) for i in range(0, len(flat), width))
