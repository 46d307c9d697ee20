"""The catch-all router, included last: whatever nobody else handled gets a polite answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import Member

router = Router(name="fallback")


def fallback_reply(message: Message, member: Member | None, in_dialogue: bool) -> str:
    """Choose the answer to a message no handler took (a plain function for tests)."""
    text = message.text or ""
    if text.startswith("/"):
        return _("I don't know that command. /help lists what I can do.")
    if message.sticker or message.animation or message.video or message.video_note:
        if in_dialogue:
            return _(
                "I can't use a sticker, GIF or video here. Please answer with text or a button."
            )
        return _("Thank you! I can't do anything with stickers, GIFs or videos, though.")
    if in_dialogue:
        return _("Please answer with text or press one of the buttons. /cancel stops the dialogue.")
    if member is None or not member.is_registered:
        return _("Hello! I am the bot of the club «Beloved Harbin». Send /start to join.")
    return _("I didn't understand that. /help lists what I can do.")


@router.message()
async def any_message(message: Message, member: Member | None, state: FSMContext) -> None:
    in_dialogue = await state.get_state() is not None
    await message.answer(fallback_reply(message, member, in_dialogue))


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is no longer active. Please send the command again."), show_alert=True
    )
