"""Small helpers shared by handlers: answer a message or edit the pressed one."""

from __future__ import annotations

from contextvars import ContextVar

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.i18n.context import get_i18n

TELEGRAM_TEXT_LIMIT = 4096

Markup = InlineKeyboardMarkup | ReplyKeyboardRemove | None


# Ids of the pressed buttons this update has answered: Telegram takes one answer per press
# and refuses a second ("query is too old"), so helpers that answer check here first.
_answered: ContextVar[set[str] | None] = ContextVar("answered_callbacks", default=None)


def new_update() -> None:
    """Forget the answers of the previous update (the update middleware calls this)."""
    _answered.set(None)


async def answer_once(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a pressed button, unless this update already did (a later reply is a message)."""
    answered = _answered.get()
    if answered is None:
        answered = set()
        _answered.set(answered)
    if query.id in answered:
        return
    answered.add(query.id)
    if text is None and not alert:
        await query.answer()  # no empty fields to encode: this runs on most presses
    else:
        await query.answer(text, show_alert=alert)


def clip(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Telegram refuses texts over 4096 characters; never echo a huge input back whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def then(text: str, more: str, locale: str) -> str:
    """Two sentences in a row: a space between them, but none after Chinese '。' or before
    a full-width bracket, as Chinese typography has it."""
    return text + more if locale.startswith("zh") else f"{text} {more}"


def in_brackets(text: str, locale: str) -> str:
    """ " (UTC+8)" after a word, or "（UTC+8）" in Chinese, which takes no space before it."""
    return f"（{text}）" if locale.startswith("zh") else f" ({text})"


def current_locale() -> str:
    return get_i18n().current_locale


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
        await answer_once(event)
        return
    await event.answer(text, reply_markup=markup)
