"""/review and /export for organisers (every update checked by `OrganisersOnly`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from archive import memoirs as records
from archive.export import ExportLabels, build_export
from burials import relatives
from db.models import Member, Memoir
from db.unit_of_work import commit
from ground.clock import Clock
from ground.context import AppContext
from handlers import burial_review
from handlers.callbacks import RowId
from handlers.files import store_of
from handlers.filters import TypedAnswer
from handlers.gates import organisers as router
from handlers.keyboards import Keyboard
from handlers.memoirs import memoir_card, send_memoir_media
from handlers.replies import answer_once, show
from programme.queries import proceedings
from scheduling.geo import localtime

log = logging.getLogger(__name__)


# Telegram's upload limit for bots on the public Bot API.
UPLOAD_LIMIT = 50 * 1024 * 1024
# One export at a time: it reads every file and writes a big ZIP.
_export_lock = asyncio.Lock()


class RevSt(StatesGroup):
    reason = State()
    edit = State()  # a title or tag; which one is in FSM data ("review_edit")


class RevCb(CallbackData, prefix="rvw"):
    action: str  # approve | reject | title | period | place | people
    memoir_id: RowId


# Typed instead of a value: clears an optional tag.
CLEAR = "-"
EDITS = ("title", "period", "place", "people")


def review_keyboard(memoir_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("✅ Approve"), callback_data=RevCb(action="approve", memoir_id=memoir_id))
    builder.button(text=_("❌ Reject"), callback_data=RevCb(action="reject", memoir_id=memoir_id))
    builder.button(text=_("✏️ Edit title"), callback_data=RevCb(action="title", memoir_id=memoir_id))
    builder.button(text=_("🗓 Year"), callback_data=RevCb(action="period", memoir_id=memoir_id))
    builder.button(text=_("📍 Place"), callback_data=RevCb(action="place", memoir_id=memoir_id))
    builder.button(text=_("👥 People"), callback_data=RevCb(action="people", memoir_id=memoir_id))
    builder.adjust(2, 1, 3)
    return builder.as_markup()


def edit_prompt(action: str) -> str:
    return {
        "reject": _("Please write the reason in a sentence or two; the author will receive it."),
        "title": _("Please type the new title."),
        "period": _("Please type a year such as 1935 or a decade such as 1930s; “-” clears it."),
        "place": _("Please type the place in Harbin; “-” clears it."),
        "people": _("Please type the names of the people; “-” clears them."),
    }[action]


async def apply_edit(session: AsyncSession, memoir: Memoir, action: str, text: str) -> str | None:
    """Save an organiser's edit of a title or tag; the error to show, or None when saved."""
    value = " ".join(text.split())
    cleared = value == CLEAR
    if action == "title":
        if not value or cleared:
            return _("Please type the new title.")
        await records.set_details(session, memoir, title=value)
        await commit(session)
    elif action == "period":
        period = (None, None) if cleared else records.parse_period(value)
        if period is None:
            return edit_prompt("period")
        await records.set_details(session, memoir, decade=period[0], year=period[1])
        await commit(session)
    elif action in ("place", "people"):
        await records.set_details(session, memoir, **{action: None if cleared else value})
        await commit(session)
    else:
        raise ValueError(action)
    return None


async def show_next(
    event: Message | CallbackQuery, session: AsyncSession, app: AppContext, bot: Bot
) -> None:
    """The oldest pending memoir with its files, then the decision buttons; when none is
    left, the way to the burial records' queue if it has any."""
    memoir = await records.next_pending(session)
    if memoir is None:
        text = _("No memoirs are waiting for review.")
        graves = await burial_review.graves_waiting(session)
        markup = burial_review.queue_button(graves) if graves else None
        if isinstance(event, CallbackQuery):
            # After a decision: its confirmation stays, and this comes below it.
            await answer_once(event)
            await burial_review.say(event, text, markup)
        else:
            await show(event, text, markup)
        return
    await show_memoir(event, memoir, session, app, bot)


async def show_memoir(
    event: Message | CallbackQuery,
    memoir: Memoir,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
) -> None:
    chat_id = event.from_user.id  # type: ignore[union-attr]
    waiting = await records.count_pending(session)
    if isinstance(event, CallbackQuery):
        await answer_once(event)  # after a decision it was answered already
    await bot.send_message(chat_id, memoir_card(memoir, show_web=True))
    await send_memoir_media(bot, chat_id, store_of(app), memoir.media)
    await bot.send_message(
        chat_id,
        _("Waiting for review: {count}. Approve this memoir?").format(count=waiting),
        reply_markup=review_keyboard(memoir.id),
    )


# Other queues under /review (talk proposals, ...): each says, when something waits, one
# line and the button that opens it; None when nothing waits.
ReviewQueue = Callable[[AsyncSession], Awaitable[tuple[str, InlineKeyboardButton] | None]]
REVIEW_QUEUES: list[ReviewQueue] = []


@router.message(Command("review"))
async def cmd_review(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Memoirs first, as ever; burial records when no memoir waits, or with /review graves."""
    await state.clear()
    graves = await burial_review.graves_waiting(session)
    wants_graves = (command.args or "").strip().casefold() in ("graves", "grave", "burials")
    if wants_graves or (graves and not await records.count_pending(session)):
        await burial_review.show_next_grave(message, session, app, bot, i18n)
        return
    await show_next(message, session, app, bot)
    if graves and await records.count_pending(session):
        await message.answer(
            _("Burial records are waiting for review too."),
            reply_markup=burial_review.queue_button(graves),
        )
    for queue in REVIEW_QUEUES:
        if entry := await queue(session):
            text, button = entry
            await message.answer(
                text, reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
            )


async def notify_author(app: AppContext, bot: Bot, session: AsyncSession, memoir: Memoir) -> bool:
    """Tell the author the decision, in the author's language (not the organiser's)."""
    author = await records.author_of(session, memoir)
    if author is None:
        return False

    def t(message: str) -> str:
        return app.i18n.gettext(message, locale=author.locale)

    title = memoir.title or t("Untitled")
    if memoir.status == records.APPROVED:
        text = t(
            "Good news: your memoir “{title}” is now in the club's archive. Thank you for sharing it!"
        ).format(title=title)
    else:
        text = t(
            "Thank you for your memoir “{title}”. The organisers could not add it to the "
            "archive as it is. Their note: {reason}\n\nYou are welcome to send it again "
            "with /memoir."
        ).format(title=title, reason=memoir.reject_reason or "—")
    try:
        await bot.send_message(author.telegram_id, text)
    except TelegramAPIError as exc:
        log.warning("could not tell member %s about memoir %s: %s", author.id, memoir.id, exc)
        return False
    return True


@router.callback_query(RevCb.filter())
async def on_review_button(
    query: CallbackQuery,
    callback_data: RevCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    clock: Clock,
) -> None:
    memoir = await records.load_memoir(session, callback_data.memoir_id)
    if memoir is None or memoir.status != records.PENDING:
        await query.answer(_("This memoir has already been reviewed."), show_alert=True)
        return
    if callback_data.action == "approve":
        await records.decide(session, memoir, approve=True)
        # Members looking for a family it mentions hear of it through the outbox.
        await relatives.match_memoir(session, memoir, clock.now())
        await commit(session)
        await notify_author(app, bot, session, memoir)
        await show(query, _("Approved: “{title}”.").format(title=memoir.title or _("Untitled")))
        await show_next(query, session, app, bot)
    elif callback_data.action == "reject":
        await state.set_state(RevSt.reason)
        await state.update_data(review_memoir_id=memoir.id)
        await show(query, edit_prompt("reject"))
    elif callback_data.action in EDITS:
        await state.set_state(RevSt.edit)
        await state.update_data(review_memoir_id=memoir.id, review_edit=callback_data.action)
        await show(query, edit_prompt(callback_data.action))
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


async def _memoir_under_review(state: FSMContext, session: AsyncSession) -> Memoir | None:
    memoir_id = (await state.get_data()).get("review_memoir_id")
    if not isinstance(memoir_id, int):
        return None
    memoir = await records.load_memoir(session, memoir_id)
    return memoir if memoir is not None and memoir.status == records.PENDING else None


@router.message(StateFilter(RevSt.reason), TypedAnswer())
async def on_reason(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, bot: Bot
) -> None:
    memoir = await _memoir_under_review(state, session)
    await state.clear()
    if memoir is None:
        await message.answer(_("This memoir has already been reviewed."))
        return
    reason = (message.text or "").strip()
    await records.decide(session, memoir, approve=False, reason=reason)
    await commit(session)
    told = await notify_author(app, bot, session, memoir)
    done = _("Rejected; the author has been told the reason.") if told else _("Rejected.")
    await message.answer(done)
    await show_next(message, session, app, bot)


@router.message(StateFilter(RevSt.edit), TypedAnswer())
async def on_edit(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, bot: Bot
) -> None:
    memoir = await _memoir_under_review(state, session)
    action = (await state.get_data()).get("review_edit", "title")
    if memoir is None or action not in EDITS:
        await state.clear()
        await message.answer(_("This memoir has already been reviewed."))
        return
    error = await apply_edit(session, memoir, action, message.text or "")
    if error is not None:
        await message.answer(error)  # the state stays: they can type again
        return
    await state.clear()
    await message.answer(_("Saved."))
    await show_memoir(message, memoir, session, app, bot)


# ---------------------------------------------------------------- /export


def export_labels(i18n: I18n, zone: str = "UTC") -> ExportLabels:
    """The book's words in the organiser's language (days in their zone)."""
    locale = i18n.current_locale

    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.gettext(singular, plural, n, locale=locale)

    def count(n: int) -> str:
        return ngettext("{count} memoir", "{count} memoirs", n).format(
            count=format_decimal(n, locale=locale)
        )

    def minutes(n: int) -> str:
        return ngettext("{count} minute", "{count} minutes", n).format(count=n)

    def day(moment: datetime) -> str:
        local = localtime.to_local(moment, zone)
        return format_date(local.date(), format="long", locale=localtime.babel_locale(locale))

    return ExportLabels(
        lang=locale,
        club=_("Club «Beloved Harbin»"),
        book=_("Book of memoirs"),
        count=count,
        indexes=_("Indexes"),
        by_theme=_("By theme"),
        by_decade=_("By decade"),
        by_author=_("By author"),
        no_theme=_("Without a theme"),
        no_period=_("Time unknown"),
        anonymous=_("anonymous"),
        untitled=_("Untitled"),
        contents=_("Contents"),
        people=_("People"),
        document=_("Document"),
        decade=_("{decade}s"),
        photo_alt=_("Photo {number} of «{title}»"),
        recording_alt=_("Recording {number} of «{title}»"),
        download_recording=_("Download the recording"),
        recording_name=_("recording"),
        missing_file=_("This file is missing from the archive."),
        no_memoirs=_("No memoirs have been approved yet."),
        proceedings=_("Proceedings of the club's meetings"),
        day=day,
        minutes=minutes,
        summary=_("Summary"),
        recording=_("Recording of the meeting"),
        materials=_("Materials"),
        talks=_("Talks"),
        speaker_unknown=_("Speaker not named"),
        no_talks=_("No talks were given."),
    )


@router.message(Command("export"))
async def cmd_export(
    message: Message,
    app: AppContext,
    bot: Bot,
    clock: Clock,
    i18n: I18n,
    member: Member | None = None,
) -> None:
    if _export_lock.locked():
        await message.answer(_("An export is already running. Please wait for it to finish."))
        return
    async with _export_lock:
        await message.answer(_("Building the book of memoirs… This may take a while."))
        exports = app.settings.media_dir.parent / "exports"
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        work = exports / f".building-{stamp}.zip"
        try:
            result = await build_export(
                app.session_factory,
                store_of(app),
                work,
                export_labels(i18n, (member.zone if member else None) or "UTC"),
                # The proceedings: one chapter per meeting that took place, with its talks.
                proceedings=lambda session: proceedings(session, now=clock.now()),
            )
        except OSError as exc:
            log.exception("export failed")
            await asyncio.to_thread(work.unlink, True)
            await message.answer(_("The export failed: {error}").format(error=exc.strerror))
            return
        name = f"harbin-memoirs-{stamp}.zip"
        if result.size < UPLOAD_LIMIT:
            try:
                await bot.send_document(
                    message.chat.id,
                    FSInputFile(work, filename=name),
                    caption=_("Memoirs: {count}, files: {files}.").format(
                        count=result.memoirs, files=result.files
                    ),
                )
            except TelegramAPIError as exc:
                # Not sent: fall through and keep it on the server instead.
                log.warning("could not upload the export: %s", exc)
            else:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(work.unlink, True)
                return
        final = exports / name
        await asyncio.to_thread(shutil.move, work, final)
        await message.answer(
            _(
                "The book is {size} MB, too big to send here. It is saved on the server: {path}"
            ).format(size=f"{result.size / 1024 / 1024:.0f}", path=str(final.resolve()))
        )
