"""/grave: find burial records by a name in any script; each result is a card with the
gravestone photo. Searching and reading the names are in `burials/`.
"""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, FSInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from burials import APPROVED, EmptyQuery, photos_of
from burials.display import card_text
from burials.search import plausible_records
from db.media import MediaStore
from db.models import BurialRecord
from ground.context import AppContext
from handlers.callbacks import GraveCb
from handlers.files import store_of
from handlers.filters import TypedAnswer
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.replies import clip, show

log = logging.getLogger(__name__)

router = Router(name="graves")

PAGE = 3
MAX_RESULTS = 30
MAX_QUERY = 100
CAPTION_LIMIT = 1024


class GraveSt(StatesGroup):
    query = State()


async def send_card(
    bot: Bot,
    chat_id: int,
    record: BurialRecord,
    session: AsyncSession,
    store: MediaStore,
    locale: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The record as one message: its gravestone photo with the card as the caption when
    there is one (by Telegram's file id, or uploaded from the store), else the card."""
    text = card_text(record, locale, _)
    photos = await photos_of(session, record)
    if photos:
        photo = photos[0]
        caption = clip(text, CAPTION_LIMIT)
        if photo.telegram_file_id:
            try:
                await bot.send_photo(
                    chat_id, photo.telegram_file_id, caption=caption, reply_markup=markup
                )
                return
            except TelegramBadRequest:
                pass  # an id from another bot or a lost file: upload our copy
        with contextlib.suppress(TelegramAPIError, OSError):
            upload = FSInputFile(store.absolute(photo.path))
            await bot.send_photo(chat_id, upload, caption=caption, reply_markup=markup)
            return
    await bot.send_message(chat_id, clip(text), reply_markup=markup)


def ask_for_name_text() -> str:
    return _(
        "Whose grave are you looking for? Type a name in any script: Щукин Фёдор, "
        "Shchukin or 休金. A surname alone is fine."
    )


@router.message(Command("grave"))
@registered
async def cmd_grave(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    query = " ".join((command.args or "").split())
    if not query:
        await state.set_state(GraveSt.query)
        await message.answer(ask_for_name_text())
        return
    await search(message, query, state, session, app, bot, i18n)


@router.message(StateFilter(GraveSt.query), TypedAnswer())
async def on_query(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    await state.set_state(None)  # the answer is the query; data (results) is kept
    await search(message, " ".join((message.text or "").split()), state, session, app, bot, i18n)


async def search(
    message: Message,
    query: str,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    query = query[:MAX_QUERY]
    try:
        records = await plausible_records(session, query, limit=MAX_RESULTS)
    except EmptyQuery:
        await message.answer(
            _("There is no name in “{query}”. Please type a surname, e.g. /grave Щукин.").format(
                query=query
            )
        )
        return
    if not records:
        await message.answer(
            _(
                "I found no burial record for “{query}”. Try another spelling or the surname "
                "alone. If you know this grave, /addgrave adds it."
            ).format(query=query)
        )
        return
    ids = [r.id for r in records]
    # The results live in the dialogue's data: callback data has room for 64 bytes only.
    await state.update_data(grave_query=query, grave_ids=ids)
    count = len(ids)
    await message.answer(
        ngettext(
            "Found {count} record for “{query}”.", "Found {count} records for “{query}”.", count
        ).format(count=count, query=query)
    )
    await send_page(message.chat.id, records[:PAGE], 0, count, session, app, bot, i18n)


def page_note(page: int, count: int) -> str:
    last = min((page + 1) * PAGE, count)
    return _("Shown {first}–{last} of {count}.").format(
        first=page * PAGE + 1, last=last, count=count
    )


async def send_page(
    chat_id: int,
    records: list[BurialRecord],
    page: int,
    count: int,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    store = store_of(app)
    for record in records:
        await send_card(bot, chat_id, record, session, store, i18n.current_locale)
    if count > (page + 1) * PAGE:
        more = Keyboard().button(
            text=_("More ▸"), callback_data=GraveCb(action="more", page=page + 1)
        )
        await bot.send_message(chat_id, page_note(page, count), reply_markup=more.as_markup())


@router.callback_query(GraveCb.filter(F.action == "more"))
@registered
async def on_more(
    query: CallbackQuery,
    callback_data: GraveCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    ids = data.get("grave_ids")
    page = callback_data.page
    if not isinstance(ids, list) or page * PAGE >= len(ids) or page < 1:
        await query.answer(
            _("This list has expired. Send /grave and a name again."), show_alert=True
        )
        return
    wanted = [i for i in ids[page * PAGE : (page + 1) * PAGE] if isinstance(i, int)]
    found = {
        r.id: r
        for r in await session.scalars(
            select(BurialRecord).where(BurialRecord.id.in_(wanted), BurialRecord.status == APPROVED)
        )
    }
    # The pressed message keeps its note and loses its button: paging goes forward only.
    await show(query, page_note(page - 1, len(ids)))
    records = [found[i] for i in wanted if i in found]
    await send_page(query.from_user.id, records, page, len(ids), session, app, bot, i18n)


@router.callback_query(GraveCb.filter(F.action == "show"))
@registered
async def on_show(
    query: CallbackQuery,
    callback_data: GraveCb,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    record = await session.get(BurialRecord, callback_data.record_id)
    if record is None or record.status != APPROVED:
        await query.answer(_("This record is not available."), show_alert=True)
        return
    await query.answer()
    await send_card(bot, query.from_user.id, record, session, store_of(app), i18n.current_locale)
