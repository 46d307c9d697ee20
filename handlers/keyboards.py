"""A small inline keyboard builder.

aiogram's InlineKeyboardBuilder deep-copies the whole keyboard on every added button,
which was a fifth of the cost of a registration step; this one just collects rows.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup


class Keyboard:
    def __init__(self) -> None:
        self._buttons: list[InlineKeyboardButton] = []
        self._widths: tuple[int, ...] = (1,)

    def button(self, *, text: str, callback_data: CallbackData | str) -> Keyboard:
        data = callback_data.pack() if isinstance(callback_data, CallbackData) else callback_data
        self._buttons.append(InlineKeyboardButton(text=text, callback_data=data))
        return self

    def adjust(self, *widths: int) -> Keyboard:
        """Row widths in order; the last one repeats, as in aiogram's builder."""
        self._widths = tuple(w for w in widths if w > 0) or (1,)
        return self

    def rows(self) -> list[list[InlineKeyboardButton]]:
        rows: list[list[InlineKeyboardButton]] = []
        index = 0
        for row_number in range(len(self._buttons)):
            if index >= len(self._buttons):
                break
            width = self._widths[min(row_number, len(self._widths) - 1)]
            rows.append(self._buttons[index : index + width])
            index += width
        return rows

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self.rows())
