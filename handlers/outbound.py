"""Delivery's messenger, made of Telegram: sends `Outgoing` messages with aiogram and turns
Telegram's answers into delivery's errors (`delivery.ports`).

A domain's button says what it means (`action`, `args`); this module packs it into the
callback data that the routers' filters read back.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from delivery.messages import Arg, Button, Outgoing
from delivery.ports import Blocked, Rejected, RetryAfter, SendError, Transient
from handlers.callbacks import AttendCb, GraveCb, IntroCb, PlanCb, PromptCb, RelCb, RsvpCb

# action -> how its args become callback data
CALLBACKS: dict[str, Callable[..., CallbackData]] = {
    "rsvp": lambda meeting_id, answer: RsvpCb(meeting_id=meeting_id, answer=answer),
    "attend": lambda meeting_id, attended: AttendCb(meeting_id=meeting_id, attended=attended),
    "plan": lambda start: PlanCb(start=start),
    "memoir_prompt": lambda action, meeting_id=0: PromptCb(action=action, meeting_id=meeting_id),
    "grave_show": lambda record_id: GraveCb(action="show", record_id=record_id),
    "relatives_memoir": lambda memoir_id: RelCb(action="memoir", ref=memoir_id),
    "relatives_intro": lambda action, intro_id: IntroCb(action=action, intro_id=intro_id),
}


def callback_data(action: str, args: tuple[Arg, ...]) -> str:
    return CALLBACKS[action](*args).pack()


def inline_button(button: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=button.label, callback_data=callback_data(button.action, button.args)
    )


def markup_of(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[inline_button(b) for b in row] for row in message.buttons]
    )


def _translate(exc: Exception) -> SendError:
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(float(exc.retry_after), exc.message)
    if isinstance(exc, TelegramForbiddenError):
        return Blocked(exc.message)
    if isinstance(exc, TelegramBadRequest):
        return Rejected(exc.message)
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return Transient(exc.message)
    if isinstance(exc, TelegramAPIError):  # 404, 409, a migrated chat...: wait and retry
        return Transient(f"{type(exc).__name__}: {exc.message}")
    return Transient(str(exc) or type(exc).__name__)  # OSError: the network


class TelegramSender:
    """`delivery.ports.Sender` over a Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, message: Outgoing) -> int:
        try:
            sent = await self.bot.send_message(
                chat_id, message.text, reply_markup=markup_of(message)
            )
        except (TelegramAPIError, OSError) as exc:
            raise _translate(exc) from exc
        return sent.message_id

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        try:
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup_of(message),
            )
        except (TelegramAPIError, OSError) as exc:
            raise _translate(exc) from exc
