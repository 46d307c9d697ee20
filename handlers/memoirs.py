"""/memoir, /my, /archive: members share, list and browse memoirs.

Handlers parse and reply; storing and querying live in `archive/`.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, FSInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from archive import collection, prompts
from archive import memoirs as records
from archive.intake import PUBLIC_API_DOWNLOAD_MB, FileTooBig, fetch_and_store
from db.media import KIND_PHOTO, KIND_VOICE, MediaStore
from db.models import MediaFile, Meeting, Member, Memoir
from db.unit_of_work import commit
from delivery.messages import Outgoing
from delivery.notes import queue_to_organisers
from ground.clock import Clock
from ground.context import AppContext
from ground.i18n import N_
from ground.text import quoted
from handlers.album_receipts import AlbumReceipts, SendReceipt
from handlers.callbacks import PromptCb, RowId
from handlers.files import incoming_file, store_of, telegram_download
from handlers.filters import HasFile, NotACommand, TypedAnswer
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.replies import clip, current_locale, show, then

log = logging.getLogger(__name__)

router = Router(name="memoirs")

DECADES = (1900, 1910, 1920, 1930, 1940, 1950, 1960, 1970)
BODY_PREVIEW = 3000
STATUS_MARK = {"draft": "✏️", "pending": "🕓", "approved": "✅", "rejected": "❌"}


class MemoSt(StatesGroup):
    collect = State()
    title = State()
    period = State()
    place = State()
    people = State()
    web = State()  # may the public website show it (archive/collection.py)


class MemoCb(CallbackData, prefix="mmo"):
    """A step of the submission dialogue: done, cancel, skip, or a decade."""

    action: str
    value: RowId = 0


class MyCb(CallbackData, prefix="mmy"):
    action: str  # list | view | delete | confirm
    memoir_id: RowId = 0
    page: RowId = 0


class ArcCb(CallbackData, prefix="arc"):
    action: str  # home | all | page | facets | list | view
    memoir_id: RowId = 0
    page: RowId = 0
    facet: str = ""  # records.FACETS: theme, decade, author
    key: RowId = 0  # a value of that facet, see records.Facet


# ---------------------------------------------------------------- texts shared with /review


def period_label(memoir: Memoir) -> str | None:
    if memoir.year:
        return str(memoir.year)
    if memoir.decade:
        return _("{decade}s").format(decade=memoir.decade)
    return None


def media_summary(media: list[MediaFile]) -> str:
    counts = {kind: sum(1 for m in media if m.kind == kind) for kind in (KIND_PHOTO, KIND_VOICE)}
    documents = len(media) - counts[KIND_PHOTO] - counts[KIND_VOICE]
    parts = []
    if counts[KIND_PHOTO]:
        parts.append(f"📷 {counts[KIND_PHOTO]}")
    if counts[KIND_VOICE]:
        parts.append(f"🎙 {counts[KIND_VOICE]}")
    if documents:
        parts.append(f"📄 {documents}")
    return " · ".join(parts)


WEB_CONSENT_LINES = {
    collection.NAMED: N_("Public website: yes, with the author's name"),
    collection.ANONYMOUS: N_("Public website: yes, without a name"),
    collection.MEMBERS_ONLY: N_("Public website: no, club members only"),
}


def memoir_card(memoir: Memoir, *, show_status: bool = False, show_web: bool = False) -> str:
    """The memoir as one message: title, details, text, what files it has; for its author
    (`show_status`) and the organisers (`show_web`) also what the website may show."""
    lines = [quoted(memoir.title or _("Untitled"), get_i18n().current_locale)]
    details = [
        memoir.author_name or _("anonymous"),
        period_label(memoir),
        memoir.place,
    ]
    lines.append(" · ".join(d for d in details if d))
    if memoir.people:
        lines.append(_("People: {people}").format(people=memoir.people))
    if memoir.theme:
        lines.append(_("Theme: {theme}").format(theme=memoir.theme))
    if show_status:
        lines.append(_("Status: {status}").format(status=status_label(memoir.status)))
        if memoir.status == records.REJECTED and memoir.reject_reason:
            lines.append(_("Reason: {reason}").format(reason=memoir.reject_reason))
    if (show_status or show_web) and memoir.web_consent in WEB_CONSENT_LINES:
        lines.append(_(WEB_CONSENT_LINES[memoir.web_consent]))
    if memoir.body:
        lines += ["", clip(memoir.body, BODY_PREVIEW)]
    summary = media_summary(memoir.media)
    if summary:
        lines += ["", summary]
    return "\n".join(lines)


def status_label(status: str) -> str:
    labels = {
        records.DRAFT: _("draft, not sent"),
        records.PENDING: _("waiting for review"),
        records.APPROVED: _("in the archive"),
        records.REJECTED: _("not accepted"),
    }
    return f"{STATUS_MARK.get(status, '')} {labels.get(status, status)}"


async def send_memoir_media(
    bot: Bot, chat_id: int, store: MediaStore, media: list[MediaFile]
) -> None:
    """Send each file by its Telegram id (no upload); fall back to the stored copy."""
    for item in media:
        caption = clip(item.caption, 1024) if item.caption else None
        sender = {
            KIND_PHOTO: (bot.send_photo, "photo"),
            KIND_VOICE: (bot.send_voice, "voice"),
        }.get(item.kind, (bot.send_document, "document"))
        method, field = sender
        if item.telegram_file_id:
            try:
                await method(chat_id, **{field: item.telegram_file_id}, caption=caption)
                continue
            except TelegramBadRequest:
                pass  # e.g. a corrupt "photo" kept as a document: that id is refused there
        upload = FSInputFile(store.absolute(item.path), filename=item.original_name)
        with contextlib.suppress(TelegramAPIError):
            await bot.send_document(chat_id, upload, caption=caption)


# ---------------------------------------------------------------- /memoir: collecting parts


def collect_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("✅ Done"), callback_data=MemoCb(action="done"))
    builder.button(text=_("Cancel"), callback_data=MemoCb(action="cancel"))
    builder.adjust(2)
    return builder.as_markup()


def and_send_more(saved: str) -> str:
    """A part's receipt, with the invitation that goes with the collect keyboard."""
    return then(saved, _("Send more, or press “Done”."), current_locale())


def album_receipt_text(photos: int, others: int) -> str:
    if others:
        return and_send_more(_("📎 Album saved. Files: {count}.").format(count=photos + others))
    return and_send_more(_("📷 Album saved. Photos: {count}.").format(count=photos))


def album_receipt_sender(bot: Bot, i18n: I18n, locale: str) -> SendReceipt:
    async def send(chat_id: int, photos: int, others: int) -> None:
        # Sent after the update is over: the member's language is set again here.
        with i18n.context(), i18n.use_locale(locale):
            await bot.send_message(
                chat_id, album_receipt_text(photos, others), reply_markup=collect_keyboard()
            )

    return send


def accepted_kinds_text() -> str:
    return _(
        "I can keep text, voice notes, photos (an album too) and documents such as scans or PDFs. "
        "Stickers, GIFs and videos can't go into the archive."
    )


@router.message(Command("memoir"))
@registered
async def cmd_memoir(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
) -> None:
    await start_memoir(message, state, session, member, command.args)


async def start_memoir(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    theme_text: str | None,
) -> None:
    """Open a draft (on a theme, if given) and ask for its parts: /memoir and the invitation
    (both handlers are for registered members only)."""
    theme = (theme_text or "").strip()[: records.MAX_FIELD] or None
    memoir = await records.create_draft(session, member, theme)
    await commit(session)
    await state.clear()
    await state.set_state(MemoSt.collect)
    await state.update_data(memoir_id=memoir.id)
    intro = _(
        "Let's keep your memory for the club. Write it, record a voice note, or send photos "
        "and documents — several messages are fine. Press “Done” when everything is sent."
    )
    if theme:
        intro = _("Theme: {theme}").format(theme=theme) + "\n\n" + intro
    if isinstance(event, CallbackQuery):
        # A new message: the invitation stays readable above the dialogue.
        await event.answer()
        await event.bot.send_message(event.from_user.id, intro, reply_markup=collect_keyboard())  # type: ignore[union-attr]
        return
    await event.answer(intro, reply_markup=collect_keyboard())


async def _draft(state: FSMContext, session: AsyncSession, member: Member | None) -> Memoir | None:
    data = await state.get_data()
    memoir_id = data.get("memoir_id")
    if member is None or not isinstance(memoir_id, int):
        return None
    memoir = await records.get_own(session, member.id, memoir_id)
    return memoir if memoir is not None and memoir.status == records.DRAFT else None


async def _open_draft(
    event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, member: Member | None
) -> Memoir | None:
    """The draft this dialogue is about; if it is gone, the member is told and it ends."""
    memoir = await _draft(state, session, member)
    if memoir is None:
        await state.clear()
        await show(event, _("This memoir is no longer open. Send /memoir to start a new one."))
    return memoir


@router.message(StateFilter(MemoSt.collect), HasFile())
async def on_file(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
    album_receipts: AlbumReceipts,
) -> None:
    memoir = await _open_draft(message, state, session, member)
    if memoir is None:
        return
    item = incoming_file(message)
    assert item is not None
    store = store_of(app)
    try:
        blob = await fetch_and_store(telegram_download(bot), store, item)
    except FileTooBig:
        size_mb = f"{(item.file_size or 0) / 1024 / 1024:.0f}"
        await message.answer(
            _(
                "Sorry, this file ({size} MB) is too big for me to download: Telegram lets bots "
                "fetch files up to {limit} MB. Please send a smaller copy, or split a long "
                "recording into parts."
            ).format(size=size_mb, limit=PUBLIC_API_DOWNLOAD_MB)
        )
        return
    except (TelegramAPIError, OSError) as exc:
        log.warning("could not store file %s: %s", item.file_unique_id, exc)
        await message.answer(_("Sorry, I could not save this file. Please send it again."))
        return
    row = await records.add_media(
        session,
        memoir,
        blob,
        caption=item.caption,
        original_name=item.original_name,
        telegram_file_id=item.file_id,
        telegram_file_unique_id=item.file_unique_id,
    )
    await commit(session)
    if row is not None and not blob.demoted and message.media_group_id:
        # One receipt for the whole album, once its last part has come (album_receipts.py).
        album_receipts.saved(
            message.chat.id,
            message.media_group_id,
            photo=blob.kind == KIND_PHOTO,
            send=album_receipt_sender(bot, i18n, i18n.current_locale),
        )
        return
    if row is None:
        text = _("This file is already in your memoir.")
    elif blob.demoted:
        text = _("I couldn't open this picture, so I kept it as a file, unchanged. Saved.")
    elif blob.kind == KIND_PHOTO:
        text = _("📷 Photo saved.")
    elif blob.kind == KIND_VOICE:
        text = _("🎙 Recording saved.")
    else:
        text = _("📄 Document saved.")
    await message.answer(and_send_more(text), reply_markup=collect_keyboard())


@router.message(StateFilter(MemoSt.collect), TypedAnswer())
async def on_text(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("The message seems to be empty. Please write your memory in words."))
        return
    memoir = await _open_draft(message, state, session, member)
    if memoir is None:
        return
    await records.add_text(session, memoir, text)
    await commit(session)
    await message.answer(and_send_more(_("✍️ Text saved.")), reply_markup=collect_keyboard())


@router.message(StateFilter(MemoSt.collect), NotACommand())
async def on_unsupported(message: Message) -> None:
    await message.answer(accepted_kinds_text(), reply_markup=collect_keyboard())


@router.callback_query(MemoCb.filter(F.action == "cancel"), StateFilter(MemoSt))
async def on_cancel(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
) -> None:
    memoir = await _draft(state, session, member)
    if memoir is not None:
        await records.delete_memoirs(session, store_of(app), [memoir.id])
        await commit(session)
    await state.clear()
    await show(query, _("Cancelled; nothing was kept. /memoir starts again."))


@router.callback_query(MemoCb.filter(F.action == "done"), StateFilter(MemoSt.collect))
async def on_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    memoir = await _open_draft(query, state, session, member)
    if memoir is None:
        return
    if not await records.has_content(session, memoir):
        await query.answer(
            _("Please send your memory first: text, a voice note, photos or documents."),
            show_alert=True,
        )
        return
    await state.set_state(MemoSt.title)
    await show(query, _("Thank you! What title shall we give it?"), _skip_keyboard())


def _skip_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("Skip"), callback_data=MemoCb(action="skip"))
    return builder.as_markup()


# ---------------------------------------------------------------- details: title, period, ...


async def _ask_period(event: Message | CallbackQuery, state: FSMContext) -> None:
    builder = Keyboard()
    for decade in DECADES:
        builder.button(
            text=_("{decade}s").format(decade=decade),
            callback_data=MemoCb(action="decade", value=decade),
        )
    builder.button(text=_("Skip"), callback_data=MemoCb(action="skip"))
    builder.adjust(4, 4, 1)
    await state.set_state(MemoSt.period)
    await show(
        event,
        _("When was it? Choose a decade, or type a year such as 1935."),
        builder.as_markup(),
    )


async def _ask_place(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(MemoSt.place)
    await show(
        event,
        _("Where in Harbin was it? A street, district or building — or skip."),
        _skip_keyboard(),
    )


async def _ask_people(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(MemoSt.people)
    await show(event, _("Who is in it? Names of the people — or skip."), _skip_keyboard())


# The author's choice for the public website, by button value.
WEB_CHOICES = {0: collection.MEMBERS_ONLY, 1: collection.NAMED, 2: collection.ANONYMOUS}


async def _ask_web(event: Message | CallbackQuery, state: FSMContext) -> None:
    builder = Keyboard()
    builder.button(text=_("🌐 Yes, with my name"), callback_data=MemoCb(action="web", value=1))
    builder.button(text=_("🌐 Yes, without my name"), callback_data=MemoCb(action="web", value=2))
    builder.button(text=_("🔒 No, club members only"), callback_data=MemoCb(action="web", value=0))
    builder.adjust(1)
    await state.set_state(MemoSt.web)
    await show(
        event,
        _(
            "May the club also show this memoir on its public website, the virtual museum "
            "anyone can visit? Club members will see it once the organisers approve it, "
            "whatever you choose; you can change this later in the club's app."
        ),
        builder.as_markup(),
    )


@router.callback_query(MemoCb.filter(F.action == "web"), StateFilter(MemoSt.web))
async def on_web_choice(
    query: CallbackQuery,
    callback_data: MemoCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
) -> None:
    memoir = await _open_draft(query, state, session, member)
    if memoir is None:
        return
    consent = WEB_CHOICES.get(callback_data.value)
    if consent is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await collection.set_web_consent(session, memoir, consent)
    await _submit(query, state, session, memoir, app)


@router.message(StateFilter(MemoSt.web), TypedAnswer())
async def on_web_text(message: Message, state: FSMContext) -> None:
    await _ask_web(message, state)


async def _submit(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    memoir: Memoir,
    app: AppContext,
) -> None:
    await records.submit(session, memoir)
    await notify_organisers(app, session, memoir, app.clock.now())
    await commit(session)  # the memoir goes for review and the organisers are told, together
    await state.clear()
    await show(
        event,
        _(
            "Thank you! Your memoir “{title}” has been sent to the organisers. I will tell you "
            "when it joins the club's archive. /my shows your memoirs."
        ).format(title=memoir.title or _("Untitled")),
    )


@router.message(StateFilter(MemoSt.title, MemoSt.place, MemoSt.people), TypedAnswer())
async def on_detail_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
) -> None:
    memoir = await _open_draft(message, state, session, member)
    if memoir is None:
        return
    value = " ".join((message.text or "").split())
    if not value:
        await message.answer(_("Please type a few words, or press “Skip”."))
        return
    step = await state.get_state()
    await _save_step(message, state, session, memoir, step, value, app)


@router.message(StateFilter(MemoSt.period), TypedAnswer())
async def on_period_text(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    memoir = await _open_draft(message, state, session, member)
    if memoir is None:
        return
    period = records.parse_period(message.text or "")
    if period is None:
        await message.answer(
            _("Please type a year such as 1935 or a decade such as 1930s, or press “Skip”.")
        )
        return
    decade, year = period
    await records.set_details(session, memoir, decade=decade, year=year)
    await commit(session)
    await _ask_place(message, state)


@router.callback_query(MemoCb.filter(F.action.in_({"skip", "decade"})), StateFilter(MemoSt))
async def on_skip_or_decade(
    query: CallbackQuery,
    callback_data: MemoCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
) -> None:
    memoir = await _open_draft(query, state, session, member)
    if memoir is None:
        return
    step = await state.get_state()
    if callback_data.action == "decade" and step == MemoSt.period.state:
        if callback_data.value not in DECADES:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        await records.set_details(session, memoir, decade=callback_data.value, year=None)
        await commit(session)
        await _ask_place(query, state)
        return
    await _save_step(query, state, session, memoir, step, None, app)


async def _save_step(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    memoir: Memoir,
    step: str | None,
    value: str | None,
    app: AppContext,
) -> None:
    """Store one answer (None = skipped) and move to the next question."""
    if step == MemoSt.title.state:
        # No title is stored as none: each reader sees "Untitled" in their own language.
        await records.set_details(session, memoir, title=value or None)
        await commit(session)
        await _ask_period(event, state)
    elif step == MemoSt.period.state:
        await _ask_place(event, state)
    elif step == MemoSt.place.state:
        await records.set_details(session, memoir, place=value)
        await commit(session)
        await _ask_people(event, state)
    elif step == MemoSt.people.state:
        await records.set_details(session, memoir, people=value)
        await commit(session)
        await _ask_web(event, state)
    elif isinstance(event, CallbackQuery):
        await event.answer(_("This button is no longer active."), show_alert=True)


# ---------------------------------------------------------------- organisers' notice


async def notify_organisers(
    app: AppContext, session: AsyncSession, memoir: Memoir, now: datetime
) -> int:
    """A short note to each organiser, in their language, through the outbox (committed
    with the submission). Returns how many were told."""
    author = await records.author_of(session, memoir)
    waiting = await records.count_pending(session)

    def note(locale: str) -> Outgoing:
        def t(message: str) -> str:
            return app.i18n.gettext(message, locale=locale)

        return Outgoing(
            t(
                "New memoir for review: “{title}” from {author}. Waiting for review: {count}. "
                "/review opens the queue."
            ).format(
                title=memoir.title or t("Untitled"),
                author=memoir.author_name or t("anonymous"),
                count=waiting,
            )
        )

    return await queue_to_organisers(
        session,
        app.settings.admin_ids,
        app.settings.default_locale,
        f"review:{memoir.id}",
        note,
        due_at=now,
        skip={author.telegram_id} if author else (),
    )


# ---------------------------------------------------------------- /my


def render_my(page: records.Page) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    for memoir in page.items:
        label = f"{STATUS_MARK.get(memoir.status, '')} {memoir.title or _('Untitled')}"
        builder.button(text=label[:60], callback_data=MyCb(action="view", memoir_id=memoir.id))
    widths = [1] * len(page.items)
    nav = _nav_buttons(builder, page, lambda p: MyCb(action="list", page=p))
    builder.adjust(*widths, nav or 1)
    if not page.total:
        return _("You have no memoirs yet. /memoir shares one."), builder.as_markup()
    text = _("Your memoirs: {count}. Choose one to view or delete it.").format(count=page.total)
    return text, builder.as_markup()


def _nav_buttons(builder: Keyboard, page: records.Page, make: object) -> int:
    count = 0
    if page.page > 0:
        builder.button(text="«", callback_data=make(page.page - 1))  # type: ignore[operator]
        count += 1
    if page.page + 1 < page.pages:
        builder.button(text="»", callback_data=make(page.page + 1))  # type: ignore[operator]
        count += 1
    return count


@router.message(Command("my"))
@registered
async def cmd_my(message: Message, session: AsyncSession, member: Member) -> None:
    await show(message, *render_my(await records.list_own(session, member.id, 0)))


@router.callback_query(MyCb.filter())
async def on_my(
    query: CallbackQuery,
    callback_data: MyCb,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
    bot: Bot,
) -> None:
    if member is None:
        await query.answer(_("Please join the club first: send /start."), show_alert=True)
        return
    if callback_data.action == "list":
        await show(
            query, *render_my(await records.list_own(session, member.id, callback_data.page))
        )
        return
    memoir = await records.get_own(session, member.id, callback_data.memoir_id)
    if memoir is None:
        # Someone else's id (or a deleted one): say nothing about it.
        await query.answer(_("This memoir is not available."), show_alert=True)
        return
    builder = Keyboard()
    if callback_data.action == "view":
        builder.button(text=_("🗑 Delete"), callback_data=MyCb(action="delete", memoir_id=memoir.id))
        builder.button(text=_("« Back"), callback_data=MyCb(action="list"))
        await show(query, memoir_card(memoir, show_status=True))
        await send_memoir_media(bot, query.from_user.id, store_of(app), memoir.media)
        await bot.send_message(
            query.from_user.id, _("What next?"), reply_markup=builder.as_markup()
        )
    elif callback_data.action == "delete":
        builder.button(
            text=_("Yes, delete it"), callback_data=MyCb(action="confirm", memoir_id=memoir.id)
        )
        builder.button(text=_("No, keep it"), callback_data=MyCb(action="list"))
        await show(
            query,
            _("Delete “{title}” with all its files? This cannot be undone.").format(
                title=memoir.title or _("Untitled")
            ),
            builder.as_markup(),
        )
    elif callback_data.action == "confirm":
        await records.delete_memoirs(session, store_of(app), [memoir.id])
        await commit(session)
        await show(query, _("Deleted. /my shows your other memoirs."))
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


# ---------------------------------------------------------------- /archive

FACETS_PER_PAGE = 8


def facet_title(facet: str) -> str:
    return {
        records.FACET_THEME: _("By theme"),
        records.FACET_DECADE: _("By decade"),
        records.FACET_AUTHOR: _("By author"),
    }[facet]


def facet_value_label(facet: str, value: records.Facet | Memoir) -> str:
    """A facet value for people: the theme, "1930s", the author, or the unknown one."""
    if isinstance(value, Memoir):
        raw = {
            records.FACET_THEME: value.theme,
            records.FACET_DECADE: str(value.decade) if value.decade else None,
            records.FACET_AUTHOR: value.author_name if value.member_id else None,
        }[facet]
    else:
        raw = value.label
    if facet == records.FACET_THEME:
        return raw or _("Without a theme")
    if facet == records.FACET_DECADE:
        return _("{decade}s").format(decade=raw) if raw else _("Time unknown")
    return raw or _("anonymous")


def _memoir_buttons(builder: Keyboard, items: list[Memoir]) -> None:
    for memoir in items:
        label = " · ".join(
            p
            for p in (memoir.title or _("Untitled"), memoir.author_name, period_label(memoir))
            if p
        )
        builder.button(text=label[:60], callback_data=ArcCb(action="view", memoir_id=memoir.id))


def _page_note(page: records.Page) -> str:
    if page.pages <= 1:
        return ""
    note = _("Page {page} of {pages}.").format(page=page.page + 1, pages=page.pages)
    return then("", note, current_locale())


def render_archive(page: records.Page, query: str | None) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    _memoir_buttons(builder, page.items)
    nav = _nav_buttons(builder, page, lambda p: ArcCb(action="page", page=p))
    builder.button(text=_("« Back"), callback_data=ArcCb(action="home"))
    builder.adjust(*([1] * len(page.items)), *([nav] if nav else []), 1)
    if query:
        head = _("Found for “{query}”: {count}.").format(query=query, count=page.total)
    else:
        head = _("Memoirs in the club's archive: {count}.").format(count=page.total)
    hint = _("To search, send /archive and a word, e.g. /archive Sungari.")
    return f"{head}{_page_note(page)}\n{hint}", builder.as_markup()


def render_archive_home(
    total: int, facets: dict[str, list[records.Facet]]
) -> tuple[str, InlineKeyboardMarkup]:
    """The three ways in, each with how many themes, decades and authors there are."""
    builder = Keyboard()
    for facet in records.FACETS:
        builder.button(
            text=f"{facet_title(facet)} ({len(facets[facet])})",
            callback_data=ArcCb(action="facets", facet=facet),
        )
    builder.button(text=_("All memoirs"), callback_data=ArcCb(action="all"))
    builder.adjust(1)
    lines = [_("Memoirs in the club's archive: {count}.").format(count=total)]
    for facet in records.FACETS:
        shown = ", ".join(
            f"{facet_value_label(facet, f)} ({f.count})" for f in facets[facet][:FACETS_PER_PAGE]
        )
        if shown:
            more = "…" if len(facets[facet]) > FACETS_PER_PAGE else ""
            lines.append(f"{facet_title(facet)}: {shown}{more}")
    lines.append(_("To search, send /archive and a word, e.g. /archive Sungari."))
    return "\n".join(lines), builder.as_markup()


def render_facets(
    facet: str, facets: list[records.Facet], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, -(-len(facets) // FACETS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = facets[page * FACETS_PER_PAGE : (page + 1) * FACETS_PER_PAGE]
    builder = Keyboard()
    for value in shown:
        builder.button(
            text=f"{facet_value_label(facet, value)} ({value.count})"[:60],
            callback_data=ArcCb(action="list", facet=facet, key=value.key),
        )
    paging = records.Page([], len(facets), page, FACETS_PER_PAGE)
    nav = _nav_buttons(builder, paging, lambda p: ArcCb(action="facets", facet=facet, page=p))
    builder.button(text=_("« Back"), callback_data=ArcCb(action="home"))
    builder.adjust(*([1] * len(shown)), *([nav] if nav else []), 1)
    if not facets:
        return _("The archive has no memoirs yet."), builder.as_markup()
    return f"{facet_title(facet)}:{_page_note(paging)}", builder.as_markup()


def render_facet_page(facet: str, key: int, page: records.Page) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    _memoir_buttons(builder, page.items)
    nav = _nav_buttons(builder, page, lambda p: ArcCb(action="list", facet=facet, key=key, page=p))
    builder.button(text=_("« Back"), callback_data=ArcCb(action="facets", facet=facet))
    builder.adjust(*([1] * len(page.items)), *([nav] if nav else []), 1)
    head = _("{value} — memoirs: {count}.").format(
        value=facet_value_label(facet, page.items[0]), count=page.total
    )
    return head + _page_note(page), builder.as_markup()


async def archive_home(session: AsyncSession) -> tuple[str, InlineKeyboardMarkup]:
    facets = {facet: await records.list_facets(session, facet) for facet in records.FACETS}
    total = sum(f.count for f in facets[records.FACET_DECADE])
    return render_archive_home(total, facets)


@router.message(Command("archive"))
@registered
async def cmd_archive(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
) -> None:
    query = " ".join((command.args or "").split())[:100] or None
    # The query lives in FSM data: callback data has room for 64 bytes only.
    await state.update_data(archive_query=query)
    if query is None:
        await show(message, *await archive_home(session))
        return
    await show(message, *render_archive(await records.search_approved(session, query, 0), query))


async def _browse(
    query: CallbackQuery, callback_data: ArcCb, state: FSMContext, session: AsyncSession
) -> None:
    """Every /archive button but "view": the screens are edited in place."""
    action, facet = callback_data.action, callback_data.facet
    if action == "home":
        await show(query, *await archive_home(session))
    elif action in ("all", "page"):
        if action == "all":
            await state.update_data(archive_query=None)
        text = (await state.get_data()).get("archive_query")
        page = await records.search_approved(session, text, callback_data.page)
        await show(query, *render_archive(page, text))
    elif action == "facets" and facet in records.FACETS:
        facets = await records.list_facets(session, facet)
        await show(query, *render_facets(facet, facets, callback_data.page))
    elif action == "list" and facet in records.FACETS:
        page = await records.browse_approved(session, facet, callback_data.key, callback_data.page)
        if page is None or not page.items:
            await query.answer(
                _("This list has changed. Send /archive to see the current one."), show_alert=True
            )
            return
        await show(query, *render_facet_page(facet, callback_data.key, page))
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


@router.callback_query(ArcCb.filter())
@registered
async def on_archive(
    query: CallbackQuery,
    callback_data: ArcCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    app: AppContext,
    bot: Bot,
) -> None:
    if callback_data.action != "view":
        await _browse(query, callback_data, state, session)
        return
    memoir = await records.load_memoir(session, callback_data.memoir_id)
    if memoir is None or memoir.status != records.APPROVED:
        await query.answer(_("This memoir is not available."), show_alert=True)
        return
    await query.answer()
    await bot.send_message(query.from_user.id, memoir_card(memoir))
    await send_memoir_media(bot, query.from_user.id, store_of(app), memoir.media)


# ---------------------------------------------------------------- the monthly invitation


def prompts_status_text(wanted: bool) -> str:
    if wanted:
        return _(
            "You get an invitation to share a memory when a meeting has a theme. "
            "/memoir_prompts off stops them."
        )
    return _("You don't get invitations to share memories. /memoir_prompts on turns them back on.")


@router.message(Command("memoir_prompts"))
@registered
async def cmd_memoir_prompts(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    choice = (command.args or "").strip().casefold()
    if choice in ("on", "off"):
        await prompts.set_prompts_wanted(session, member, choice == "on", now=clock.now())
        await commit(session)
    elif choice:
        await message.answer(_("Please send /memoir_prompts on or /memoir_prompts off."))
        return
    await message.answer(prompts_status_text(await prompts.prompts_wanted(session, member.id)))


@router.callback_query(PromptCb.filter())
@registered
async def on_prompt_button(
    query: CallbackQuery,
    callback_data: PromptCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    if callback_data.action == "off":
        await prompts.set_prompts_wanted(session, member, False, now=clock.now())
        await commit(session)
        await show(query, prompts_status_text(False))
    elif callback_data.action == "write":
        meeting = await session.get(Meeting, callback_data.meeting_id)
        # The meeting's current theme: an organiser may have corrected it since.
        theme = meeting.theme if meeting is not None else None
        await start_memoir(query, state, session, member, theme)
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)
