"""/help and /cancel: available in every state, so they come before the dialogues."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from db.models import Member
from handlers.commands import ORGANISER_COMMANDS
from handlers.replies import current_locale, then

router = Router(name="common")


def help_text(is_organiser: bool) -> str:
    lines = [
        _("I am the bot of the club «Beloved Harbin». Here is what I can do:"),
        _("/start: join the club"),
        _("/me: what I know about you"),
        _("/settings: change your language, name, time zone or hours"),
        _("/lang, /tz, /name, /hours: change one thing quickly, e.g. /hours 10-20"),
        _("/next: the next meeting in your time; /calendar: add meetings to your calendar"),
        _("/unavailable 2027-02-13: a day you cannot make; the planner avoids it"),
        _(
            "/memoir: share a memory (text, voice, photos); /my: your memoirs; /archive: the club's archive"
        ),
        _("/talk: propose a talk for a meeting; /mytalks: your talks and their slots"),
        _(
            "/grave Щукин: find a grave by a name in any script; /addgrave: add a grave with "
            "its photo"
        ),
        _("/relatives: the families you look for; I tell you when something about them comes"),
        _("/cancel: stop the current dialogue"),
        _("/forget: delete everything stored about you"),
    ]
    if is_organiser:
        lines += ["", _("You are an organiser: your own menu shows the organisers' commands.")]
        # The same descriptions as the organisers' command menu, in the reader's language.
        lines += [f"/{name}: {_(description)}" for name, description in ORGANISER_COMMANDS]
    return "\n".join(lines)


@router.message(Command("help"))
async def cmd_help(message: Message, is_organiser: bool) -> None:
    await message.answer(help_text(is_organiser))


@router.message(Command("cancel"))
async def cmd_cancel(message: Message, state: FSMContext, member: Member | None) -> None:
    had_dialogue = await state.get_state() is not None
    chosen = (await state.get_data()).get("locale")
    await state.clear()
    if chosen:  # the language picked at /start's first step stays the person's language
        await state.update_data(locale=chosen)
    if had_dialogue:
        text = _("Stopped. Nothing more will be asked.")
    else:
        text = _("There is nothing to stop.")
    if member is None or not member.is_registered:
        text = then(text, _("Send /start whenever you want to join the club."), current_locale())
    await message.answer(text, reply_markup=ReplyKeyboardRemove())
