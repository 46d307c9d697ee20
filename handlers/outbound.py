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
from handlers.callbacks import (
    AttendCb,
    ClubCb,
    GraveCb,
    IntroCb,
    PlanCb,
    PromptCb,
    RelCb,
    RsvpCb,
    TalkCb,
)

# action -> how its args become callback data
CALLBACKS: dict[str, Callable[..., CallbackData]] = {
    "rsvp": lambda meeting_id, answer: RsvpCb(meeting_id=meeting_id, answer=answer),
    "attend": lambda meeting_id, attended: AttendCb(meeting_id=meeting_id, attended=attended),
    "plan": lambda start: PlanCb(start=start),
    "memoir_prompt": lambda action, meeting_id=0: PromptCb(action=action, meeting_id=meeting_id),
    "talk": lambda action, talk_id: TalkCb(action=action, talk_id=talk_id),
    "club_retry": lambda: ClubCb(action="retry"),
    "grave_show": lambda record_id: GraveCb(action="show", record_id=record_id),
    "relatives_memoir": lambda memoir_id: RelCb(action="memoir", ref=memoir_id),
    "relatives_intro": lambda action, intro_id: IntroCb(action=action, intro_id=intro_id),
}
# action -> the link it opens, given the bot's username (a t.me deep link with a start
# parameter: the bot then answers the reader in their own language).
LINKS: dict[str, Callable[..., str]] = {
    "open_bot": lambda username, parameter: f"https://t.me/{username}?start={parameter}",
}


def callback_data(action: str, args: tuple[Arg, ...]) -> str:
    return CALLBACKS[action](*args).pack()


def inline_button(button: Button, bot_username: str | None = None) -> InlineKeyboardButton:
    if button.action in LINKS:
        if not bot_username:
            raise ValueError(f"a {button.action!r} button needs the bot's username")
        url = LINKS[button.action](bot_username, *button.args)
        return InlineKeyboardButton(text=button.label, url=url)
    return InlineKeyboardButton(
        text=button.label, callback_data=callback_data(button.action, button.args)
    )


def markup_of(message: Outgoing, bot_username: str | None = None) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[inline_button(b, bot_username) for b in row] for row in message.buttons]
    )


def needs_username(message: Outgoing) -> bool:
    return any(b.action in LINKS for row in message.buttons for b in row)


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

    async def _username(self, message: Outgoing) -> str | None:
        # aiogram keeps getMe's answer after the first call.
        return (await self.bot.me()).username if needs_username(message) else None

    async def send(self, chat_id: int, message: Outgoing) -> int:
        try:
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                reply_markup=markup_of(message, await self._username(message)),
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
                reply_markup=markup_of(message, await self._username(message)),
            )
        except (TelegramAPIError, OSError) as exc:
            raise _translate(exc) from exc
