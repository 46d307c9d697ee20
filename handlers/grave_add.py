"""/addgrave: a member adds a burial record with a gravestone photo, one question at a
time. Every step has «Back» and «Cancel», optional ones «Skip»; the answers are kept in a
draft row (burials/drafts.py), so a restart or a detour loses nothing and /addgrave
offers to continue. The record is stored `pending` for the organisers' review.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from archive.intake import PUBLIC_API_DOWNLOAD_MB, FileTooBig
from burials import PENDING, RecordError, add_photo, add_record
from burials.dates import DateError, parse_typed_date
from burials.display import card_text, name_as_written
from burials.drafts import Draft, common_cemeteries, drop_draft, load_draft, save_draft
from burials.records import clean_fields
from db.exif import NotAnImage, image_format
from db.models import BurialRecord, Member
from db.unit_of_work import commit
from delivery.messages import Outgoing
from delivery.notes import queue_to_organisers
from ground.clock import Clock
from ground.context import AppContext
from handlers.files import store_of, telegram_download
from handlers.filters import NotACommand, TypedAnswer
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.replies import show

log = logging.getLogger(__name__)

router = Router(name="grave_add")

STEPS = (
    "surname",
    "given_names",
    "patronymic",
    "born",
    "died",
    "cemetery",
    "section",
    "inscription",
    "photo",
    "confirm",
)
TEXT_STEPS = ("surname", "given_names", "patronymic", "cemetery", "section", "inscription")
DATE_STEPS = ("born", "died")
# What the bot can download from Telegram (the public Bot API's limit).
MAX_PHOTO_BYTES = PUBLIC_API_DOWNLOAD_MB * 1024 * 1024
PICTURES = ("JPEG", "PNG", "WEBP", "GIF", "TIFF")
SOURCE = "relative"


class AddSt(StatesGroup):
    answering = State()


class AddCb(CallbackData, prefix="agr"):
    """A button of one step: back | skip | cancel | os | cem | save | resume | restart."""

    action: str
    step: str = ""
    value: int = 0


class PhotoOrFile(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.photo or message.document)


def _locale() -> str:
    return get_i18n().current_locale


# ---------------------------------------------------------------- the draft as a record


def stored_date(draft: Draft, step: str) -> str | None:
    value = draft.get(step)
    if not value:
        return None
    return f"{value} OS" if draft.get(f"{step}_os") else str(value)


def record_values(draft: Draft, upto: str | None = None) -> dict[str, object]:
    """The draft's answers as `add_record` fields (those before `upto` when given)."""
    steps = STEPS[: STEPS.index(upto)] if upto else STEPS
    values: dict[str, object] = {}
    for step in steps:
        if step in TEXT_STEPS and draft.get(step):
            values[step] = draft[step]
        elif step in DATE_STEPS and draft.get(step):
            values[step] = stored_date(draft, step)
    return values


def preview(draft: Draft, locale: str) -> str:
    """The card the record will have, drawn from the draft."""
    values = record_values(draft)
    born = parse_typed_date(stored_date(draft, "born"))
    died = parse_typed_date(stored_date(draft, "died"))
    record = BurialRecord(
        surname=str(values.get("surname") or ""),
        given_names=str(values.get("given_names") or ""),
        patronymic=str(values.get("patronymic") or ""),
        born=born.iso() if born else None,
        born_old_style=bool(born and born.old_style),
        died=died.iso() if died else None,
        died_old_style=bool(died and died.old_style),
        cemetery=values.get("cemetery"),
        section=values.get("section"),
        inscription=values.get("inscription"),
    )
    return card_text(record, locale, _)


def error_text(exc: RecordError | DateError) -> str:
    """The domain's reason as a sentence in the member's language."""
    if "limit" in exc.params:
        return _("Please keep it under {limit} characters.").format(limit=exc.params["limit"])
    text = _(exc.message).format(**exc.params)
    if text[-1:] in ".!?。！？":
        return text[:1].upper() + text[1:]
    stop = "。" if _locale() == "zh" else "."
    return text[:1].upper() + text[1:] + stop


# ---------------------------------------------------------------- asking


def _keyboard(step: str, draft: Draft) -> InlineKeyboardMarkup:
    """Every step: Back (but the first), Skip (every answer is optional; the name rule is
    checked when the given name is skipped), Cancel; dates and cemeteries add theirs."""
    builder = Keyboard()
    widths: list[int] = []
    if step in DATE_STEPS and not draft.get(f"{step}_os"):
        builder.button(
            text=_("📜 It is an Old Style date"), callback_data=AddCb(action="os", step=step)
        )
        widths.append(1)
    if step == "cemetery":
        for index, name in enumerate(draft.get("cemeteries") or []):  # type: ignore[arg-type]
            builder.button(
                text=str(name)[:60], callback_data=AddCb(action="cem", step=step, value=index)
            )
            widths.append(1)
    if step != STEPS[0]:
        builder.button(text=_("« Back"), callback_data=AddCb(action="back", step=step))
    builder.button(text=_("Skip"), callback_data=AddCb(action="skip", step=step))
    builder.button(text=_("Cancel"), callback_data=AddCb(action="cancel", step=step))
    builder.adjust(*widths, 3 if step != STEPS[0] else 2)
    return builder.as_markup()


def prompt(step: str, draft: Draft) -> str:
    if step == "surname":
        return _(
            "Let's add a burial record. First the surname, as the stone or the source writes "
            "it (any script). Skip it if only the given name is known."
        )
    if step == "given_names":
        return _("The given name (or names)?")
    if step == "patronymic":
        return _("The patronymic (father's name), if known?")
    if step in DATE_STEPS:
        asked = _("The date of birth?") if step == "born" else _("The date of death?")
        hint = _("Type 1923, 1923-05 or 1923-05-14; 14.05.1923 works too.")
        # Chinese puts no space after a full-width question mark.
        question = asked + hint if _locale() == "zh" else f"{asked} {hint}"
        if draft.get(f"{step}_os"):
            question += "\n" + _("Noted: the date is in the Old Style (Julian) calendar.")
        return question
    if step == "cemetery":
        return _("Which cemetery? Choose one or type its name and town.")
    if step == "section":
        return _("The section, row or grave number, if known?")
    if step == "inscription":
        return _("The inscription on the stone, if you can read it?")
    if step == "photo":
        return _(
            "Please send a photo of the gravestone: as a photo, or as a picture file up to "
            "{limit} MB."
        ).format(limit=PUBLIC_API_DOWNLOAD_MB)
    raise ValueError(step)


async def ask(event: Message | CallbackQuery, draft: Draft) -> None:
    step = str(draft.get("step") or STEPS[0])
    if step == "confirm":
        await show(event, summary_text(draft), summary_keyboard())
        return
    await show(event, prompt(step, draft), _keyboard(step, draft))


def summary_text(draft: Draft) -> str:
    lines = [_("Please check the record:"), "", preview(draft, _locale())]
    if draft.get("photo"):
        lines += ["", _("📷 With a photo of the gravestone.")]
    lines += ["", _("Save it? The organisers will look at it before it joins the database.")]
    return "\n".join(lines)


def summary_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("✅ Save"), callback_data=AddCb(action="save", step="confirm"))
    builder.button(text=_("« Back"), callback_data=AddCb(action="back", step="confirm"))
    builder.button(text=_("Cancel"), callback_data=AddCb(action="cancel", step="confirm"))
    builder.adjust(1, 2)
    return builder.as_markup()


async def go_to(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    draft: Draft,
    step: str,
) -> None:
    """Move to `step`, save the draft, then ask (the draft is committed before the reply)."""
    draft["step"] = step
    if step == "cemetery" and "cemeteries" not in draft:
        draft["cemeteries"] = await common_cemeteries(session)
    await save_draft(session, member.id, draft)
    await commit(session)
    await state.set_state(AddSt.answering)
    await ask(event, draft)


def next_step(step: str) -> str:
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def previous_step(step: str) -> str:
    return STEPS[max(STEPS.index(step) - 1, 0)]


# ---------------------------------------------------------------- starting


@router.message(Command("addgrave"))
@registered
async def cmd_addgrave(
    message: Message, state: FSMContext, session: AsyncSession, member: Member
) -> None:
    draft = await load_draft(session, member.id)
    if draft and draft.get("step") and draft.get("step") != STEPS[0]:
        await state.set_state(AddSt.answering)
        builder = Keyboard()
        builder.button(text=_("Continue"), callback_data=AddCb(action="resume"))
        builder.button(text=_("Start again"), callback_data=AddCb(action="restart"))
        builder.adjust(2)
        shown = preview(draft, _locale())
        await message.answer(
            _("You have a record you started adding:") + f"\n\n{shown}\n\n" + _("Continue it?"),
            reply_markup=builder.as_markup(),
        )
        return
    await go_to(message, state, session, member, {}, STEPS[0])


async def _draft_or_explain(
    event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, member: Member | None
) -> Draft | None:
    """The draft being added; None (after saying so) if there is none, or no member."""
    if member is None:  # forgotten mid-dialogue: nothing to continue
        await state.clear()
        return None
    draft = await load_draft(session, member.id)
    if draft is None:
        await state.clear()
        await show(event, _("There is no record being added. /addgrave starts one."))
    return draft


# ---------------------------------------------------------------- buttons


@router.callback_query(AddCb.filter())
@registered
async def on_button(
    query: CallbackQuery,
    callback_data: AddCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    app: AppContext,
    bot: Bot,
    clock: Clock,
) -> None:
    action = callback_data.action
    if action == "restart":
        await go_to(query, state, session, member, {}, STEPS[0])
        return
    draft = await _draft_or_explain(query, state, session, member)
    if draft is None:
        return
    if action == "resume":
        await state.set_state(AddSt.answering)
        await ask(query, draft)
        return
    step = str(draft.get("step") or STEPS[0])
    if callback_data.step != step:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    if action == "cancel":
        await drop_draft(session, member.id)
        await commit(session)
        await state.clear()
        await show(query, _("Cancelled; nothing was kept. /addgrave starts again."))
    elif action == "back":
        await go_to(query, state, session, member, draft, previous_step(step))
    elif action == "skip" and step != "confirm":
        if step == "given_names" and not draft.get("surname"):
            await query.answer(
                _("A record needs a surname or a given name. Please type one."), show_alert=True
            )
            return
        draft.pop(step, None)
        if step in DATE_STEPS:
            draft.pop(f"{step}_os", None)
        await go_to(query, state, session, member, draft, next_step(step))
    elif action == "os" and step in DATE_STEPS:
        draft[f"{step}_os"] = True
        await go_to(query, state, session, member, draft, step)
    elif action == "cem" and step == "cemetery":
        names = draft.get("cemeteries") or []
        if not 0 <= callback_data.value < len(names):  # type: ignore[arg-type]
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        draft["cemetery"] = names[callback_data.value]  # type: ignore[index]
        await go_to(query, state, session, member, draft, next_step(step))
    elif action == "save" and step == "confirm":
        await save(query, state, session, member, draft, app, bot, clock)
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


# ---------------------------------------------------------------- typed answers


@router.message(StateFilter(AddSt.answering), TypedAnswer())
async def on_text(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    draft = await _draft_or_explain(message, state, session, member)
    if draft is None:
        return
    step = str(draft.get("step") or STEPS[0])
    value = (message.text or "").strip()
    if step in TEXT_STEPS:
        value = value if step == "inscription" else " ".join(value.split())
    if step == "photo":
        await message.answer(
            _("Please send the photo itself, or press “Skip”."),
            reply_markup=_keyboard(step, draft),
        )
        return
    if step == "confirm":
        await message.answer(summary_text(draft), reply_markup=summary_keyboard())
        return
    if not value:
        await message.answer(_("Please type a few words, or press “Skip”."))
        return
    candidate = {**draft, step: value}
    if step in DATE_STEPS:
        try:
            parsed = parse_typed_date(value)
        except DateError as exc:
            await message.answer(error_text(exc), reply_markup=_keyboard(step, draft))
            return
        assert parsed is not None
        candidate[step] = parsed.iso()
        candidate[f"{step}_os"] = parsed.old_style or bool(draft.get(f"{step}_os"))
    try:
        # Everything answered so far, checked as the record will be: a bad value is refused
        # at its own step (earlier answers were checked at theirs).
        clean_fields(record_values(candidate, upto=next_step(step)))
    except RecordError as exc:
        await message.answer(error_text(exc), reply_markup=_keyboard(step, draft))
        return
    await go_to(message, state, session, member, candidate, next_step(step))


@router.message(StateFilter(AddSt.answering), PhotoOrFile())
async def on_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    app: AppContext,
    bot: Bot,
) -> None:
    draft = await _draft_or_explain(message, state, session, member)
    if draft is None:
        return
    if draft.get("step") != "photo":
        await message.answer(
            _("I'll ask for the photo in a moment; please answer this question first."),
            reply_markup=_keyboard(str(draft.get("step")), draft),
        )
        return
    refusal = await photo_refusal(message, app, bot)
    if refusal is not None:
        await message.answer(refusal, reply_markup=_keyboard("photo", draft))
        return
    if message.photo:
        best = message.photo[-1]
        draft["photo"] = {"file_id": best.file_id, "mime": "image/jpeg", "name": None}
    else:
        document = message.document
        assert document is not None
        draft["photo"] = {
            "file_id": document.file_id,
            "mime": document.mime_type or "image/jpeg",
            "name": document.file_name,
        }
    await go_to(message, state, session, member, draft, "confirm")


async def photo_refusal(message: Message, app: AppContext, bot: Bot) -> str | None:
    """Why this message cannot be the gravestone photo, or None when it can."""
    size = (message.photo[-1].file_size if message.photo else message.document.file_size) or 0  # type: ignore[union-attr]
    too_big = _(
        "Sorry, this file ({size} MB) is too big for me to download: Telegram lets bots "
        "fetch files up to {limit} MB. Please send it as a photo, or a smaller copy."
    )
    if size > MAX_PHOTO_BYTES:
        return too_big.format(size=f"{size / 1024 / 1024:.0f}", limit=PUBLIC_API_DOWNLOAD_MB)
    if message.photo:
        return None  # Telegram itself made it a JPEG
    document = message.document
    assert document is not None
    not_a_picture = _(
        "This file is not a picture I can keep (a photo, JPEG, PNG or WebP). Please send a "
        "photo of the gravestone, or press “Skip”."
    )
    if not (document.mime_type or "").startswith("image/"):
        return not_a_picture
    # Its type is the sender's word only: open it to be sure.
    store = store_of(app)
    temp = await asyncio.to_thread(store.new_temp_path)
    try:
        await telegram_download(bot)(document.file_id, temp)
        data = await asyncio.to_thread(temp.read_bytes)
        kind = await asyncio.to_thread(image_format, data)
    except FileTooBig:
        return too_big.format(size=f"{size / 1024 / 1024:.0f}", limit=PUBLIC_API_DOWNLOAD_MB)
    except NotAnImage:
        return not_a_picture
    except (TelegramAPIError, OSError) as exc:
        log.warning("could not fetch a gravestone photo: %s", exc)
        return _("Sorry, I could not fetch this file. Please send it again.")
    finally:
        await asyncio.to_thread(temp.unlink, True)
    return None if kind in PICTURES else not_a_picture


@router.message(StateFilter(AddSt.answering), NotACommand())
async def on_other(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None
) -> None:
    draft = await _draft_or_explain(message, state, session, member)
    if draft is None:
        return
    step = str(draft.get("step") or STEPS[0])
    await message.answer(
        _("Please type your answer, or use the buttons."), reply_markup=_keyboard(step, draft)
    )


# ---------------------------------------------------------------- saving


async def save(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    draft: Draft,
    app: AppContext,
    bot: Bot,
    clock: Clock,
) -> None:
    """Fetch the photo first (a failure keeps the draft whole), then store the record and
    its photo together, and tell the organisers."""
    store = store_of(app)
    photo = draft.get("photo") if isinstance(draft.get("photo"), dict) else None
    temp: Path | None = None
    try:
        if photo:
            temp = await asyncio.to_thread(store.new_temp_path)
            try:
                await telegram_download(bot)(str(photo["file_id"]), temp)  # type: ignore[index]
            except (FileTooBig, TelegramAPIError, OSError) as exc:
                log.warning("could not fetch a gravestone photo on saving: %s", exc)
                await query.answer(
                    _("Sorry, I could not fetch the photo. Press “Save” again in a moment."),
                    show_alert=True,
                )
                return
        try:
            record = await add_record(
                session,
                **record_values(draft),
                source=SOURCE,
                added_by=member.id,
                status=PENDING,
            )
        except RecordError as exc:
            await query.answer(error_text(exc), show_alert=True)
            return
        if photo and temp is not None:
            await add_photo(
                session,
                store,
                record,
                temp,
                mime_type=str(photo.get("mime") or "image/jpeg"),  # type: ignore[union-attr]
                original_name=photo.get("name"),  # type: ignore[union-attr, arg-type]
                telegram_file_id=str(photo["file_id"]),  # type: ignore[index]
                added_by=member.id,
            )
        await drop_draft(session, member.id)
        await tell_organisers(session, app, record, member, clock)
        await commit(session)
    finally:
        if temp is not None:
            await asyncio.to_thread(temp.unlink, True)
    await state.clear()
    await show(
        query,
        _(
            "Thank you! The record is saved and waits for the organisers' review. I will tell "
            "you when it joins the club's database."
        ),
    )


async def tell_organisers(
    session: AsyncSession, app: AppContext, record: BurialRecord, author: Member, clock: Clock
) -> None:
    """A note in the outbox for each organiser but the author, in their language."""

    def note(locale: str) -> Outgoing:
        text = app.i18n.gettext(
            "New burial record for review: {name}. /review opens the queue.", locale=locale
        )
        return Outgoing(text.format(name=name_as_written(record)))

    await queue_to_organisers(
        session,
        app.settings.admin_ids,
        app.settings.default_locale,
        f"grave:{record.id}",
        note,
        due_at=clock.now(),
        skip={author.telegram_id},
    )
