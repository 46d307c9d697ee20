"""Small helpers shared by handlers: answer a message or edit the pressed one."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

TELEGRAM_TEXT_LIMIT = 4096

Markup = InlineKeyboardMarkup | ReplyKeyboardRemove | None


def clip(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Telegram refuses texts over 4096 characters; never echo a huge input back whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def then(text: str, more: str, locale: str) -> str:
    """Two sentences in a row: a space between them, but none after Chinese '。' or before
    a full-width bracket, as Chinese typography has it."""
    return text + more if locale.startswith("zh") else f"{text} {more}"


async def show(event: Message | CallbackQuery, text: str, markup: Markup = None) -> None:
    """Edit the message whose button was pressed, or send a new one for typed input."""
    text = clip(text)
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and (
            markup is None or isinstance(markup, InlineKeyboardMarkup)
        ):
            try:
                await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest:
                # "message is not modified" or too old to edit: a fresh message is fine.
                await message.answer(text, reply_markup=markup)
        elif event.from_user:
            await event.bot.send_message(event.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]
        await event.answer()
        return
    await event.answer(text, reply_markup=markup)
