"""Command menus in each language, and an organisers' menu in their own chat scope."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from ground.i18n import N_

MEMBER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Join the club")),
    ("me", N_("What the bot knows about you")),
    ("settings", N_("Change language, name, time zone, hours")),
    ("help", N_("What the bot can do")),
    ("next", N_("The next meeting in your time")),
    ("calendar", N_("Subscribe to meetings in your calendar")),
    ("unavailable", N_("Days you cannot make a meeting")),
    ("memoir", N_("Share a memory: text, voice, photos")),
    ("my", N_("Your memoirs")),
    ("archive", N_("Browse and search the club's archive")),
    ("app", N_("The club's app: your memoirs and the meeting")),
    ("memoir_prompts", N_("Invitations to share a memory: on or off")),
    ("talk", N_("Propose a talk for a meeting")),
    ("mytalks", N_("Your talks and their place in the programme")),
    ("grave", N_("Find a grave by a name in any script")),
    ("addgrave", N_("Add a grave with its photo")),
    ("relatives", N_("Families you are looking for")),
    ("cancel", N_("Stop the current dialogue")),
    ("forget", N_("Delete your data")),
)

# Other parts of the product append their organiser commands here.
ORGANISER_COMMANDS: list[tuple[str, str]] = [
    ("plan", N_("Fair times for next month: /plan [YYYY-MM]")),
    ("fairness", N_("Burden and nights by city")),
    ("meeting", N_("Set the next meeting: /meeting 2027-01-16 10:00 [zone]")),
    ("reschedule", N_("Move the meeting")),
    ("link", N_("Set the meeting link")),
    ("theme", N_("Set the meeting theme")),
    ("cancelmeeting", N_("Cancel the meeting")),
    ("broadcast", N_("Announce something to all members")),
    ("members", N_("Members by country and zone, and the list")),
    ("stats", N_("RSVPs and reminders per meeting")),
    ("admins", N_("List, add or remove organisers")),
    ("review", N_("Review submitted memoirs and burial records")),
    ("export", N_("Export the memoirs as a book (ZIP)")),
    ("event", N_("Add a special event: a conference day, a memorial service, an excursion")),
    ("events", N_("Coming meetings and events: link, place, programme, cancel")),
    ("programme", N_("A meeting's programme: order and minutes of the talks")),
    ("summary", N_("After a meeting: its recording and summary to those who came")),
    ("memoirofmonth", N_("Post the memoir of the month in the club chat")),
]


def _translated(i18n: I18n, locale: str, commands: Iterable[tuple[str, str]]) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(description, locale=locale))
        for name, description in commands
    ]


async def publish_member_menus(bot: Bot, i18n: I18n) -> None:
    default_locale = i18n.default_locale
    await bot.set_my_commands(
        _translated(i18n, default_locale, MEMBER_COMMANDS), scope=BotCommandScopeDefault()
    )
    for locale in ("ru", "en", "zh"):
        await bot.set_my_commands(
            _translated(i18n, locale, MEMBER_COMMANDS),
            scope=BotCommandScopeDefault(),
            language_code=locale,
        )


async def publish_organiser_menu(bot: Bot, i18n: I18n, chat_id: int, locale: str) -> None:
    """An organiser's chat gets member and organiser commands in their language."""
    commands = [*MEMBER_COMMANDS, *ORGANISER_COMMANDS]
    await bot.set_my_commands(
        _translated(i18n, locale, commands), scope=BotCommandScopeChat(chat_id=chat_id)
    )
