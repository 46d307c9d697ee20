"""/app and the chat's menu button: the members' Mini App (web/miniapp.py) in Telegram.

Telegram opens Mini Apps only from https addresses, so both appear only when
PUBLIC_BASE_URL is https (behind the reverse proxy of docs/deploy.md)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from ground.i18n import N_
from ground.settings import Settings
from handlers.gates import registered

router = Router(name="webapp")

MENU_BUTTON_TEXT = N_("Club app")


def app_url(settings: Settings) -> str | None:
    base = settings.public_base_url
    return f"{base}/app/" if base.startswith("https://") else None


@router.message(Command("app"))
@registered
async def cmd_app(message: Message, settings: Settings) -> None:
    url = app_url(settings)
    if url is None:
        await message.answer(
            _("The club's app is not open yet: it needs the bot's address on https.")
        )
        return
    button = InlineKeyboardButton(text=_("📱 Open the club's app"), web_app=WebAppInfo(url=url))
    await message.answer(
        _("Your memoirs, what the club shares with members, and the next meeting:"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )


async def publish_menu_button(bot: Bot, i18n: I18n, settings: Settings) -> bool:
    """The button beside the message field opens the Mini App; False when it cannot."""
    url = app_url(settings)
    if url is None:
        return False
    text = i18n.gettext(MENU_BUTTON_TEXT, locale=settings.default_locale)
    await bot.set_chat_menu_button(
        menu_button=MenuButtonWebApp(text=text, web_app=WebAppInfo(url=url))
    )
    return True
