"""The burial records' queue in /review (organisers; every update checked by
`OrganisersOnly`): approve, reject with a reason the author receives through the outbox,
or correct a field first. An approved record is matched against the families members
look for (burials/relatives.py)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from burials import APPROVED, PENDING, REJECTED, RecordError, set_status, update_record
from burials.dates import DateError, parse_typed_date
from burials.display import name_as_written
from burials.notices import queue_decision
from burials.records import count_pending, pending_records, stored_date_text
from burials.relatives import match_record
from db.models import BurialRecord, Member
from db.unit_of_work import commit
from ground.clock import Clock
from ground.context import AppContext
from handlers.files import store_of
from handlers.filters import TypedAnswer
from handlers.gates import organisers as router
from handlers.grave_add import error_text
from handlers.graves import send_card
from handlers.keyboards import Keyboard
from handlers.replies import show

# Typed instead of a value: clears an optional field.
CLEAR = "-"
FIELDS = (
    "surname",
    "given_names",
    "patronymic",
    "born",
    "died",
    "cemetery",
    "section",
    "inscription",
)


class GraveRevSt(StatesGroup):
    reason = State()
    edit = State()  # which field is in FSM data ("grave_review_field")


class GraveRevCb(CallbackData, prefix="grw"):
    action: str  # next | approve | reject | fields | field
    record_id: int = 0
    field: str = ""


def field_label(field: str) -> str:
    return {
        "surname": _("Surname"),
        "given_names": _("Given names"),
        "patronymic": _("Patronymic"),
        "born": _("Born"),
        "died": _("Died"),
        "cemetery": _("Cemetery"),
        "section": _("Section"),
        "inscription": _("Inscription"),
    }[field]


def review_keyboard(record_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("✅ Approve"), callback_data=GraveRevCb(action="approve", record_id=record_id)
    )
    builder.button(
        text=_("❌ Reject"), callback_data=GraveRevCb(action="reject", record_id=record_id)
    )
    builder.button(
        text=_("✏️ Correct a field"),
        callback_data=GraveRevCb(action="fields", record_id=record_id),
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def fields_keyboard(record_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for field in FIELDS:
        builder.button(
            text=field_label(field),
            callback_data=GraveRevCb(action="field", record_id=record_id, field=field),
        )
    builder.adjust(3)
    return builder.as_markup()


def queue_button(count: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("🪦 Burial records ({count})").format(count=count),
        callback_data=GraveRevCb(action="next"),
    )
    return builder.as_markup()


async def say(
    event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A new message below: after a button, whose press the caller has answered already
    (Telegram takes one answer per press), or after a typed message."""
    chat_id = event.from_user.id  # type: ignore[union-attr]
    await event.bot.send_message(chat_id, text, reply_markup=markup)  # type: ignore[union-attr]


async def graves_waiting(session: AsyncSession) -> int:
    return await count_pending(session)


async def show_next_grave(
    event: Message | CallbackQuery, session: AsyncSession, app: AppContext, bot: Bot, i18n: I18n
) -> None:
    """The oldest pending record as its card (with the photo), then the decision buttons,
    in new messages (a pressed button has been answered by the caller)."""
    found = await pending_records(session, limit=1)
    if not found:
        await say(event, _("No burial records are waiting for review."))
        return
    await show_grave(event, found[0], session, app, bot, i18n)


async def show_grave(
    event: Message | CallbackQuery,
    record: BurialRecord,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    chat_id = event.from_user.id  # type: ignore[union-attr]
    await send_card(bot, chat_id, record, session, store_of(app), i18n.current_locale)
    author = await session.get(Member, record.added_by) if record.added_by else None
    details = [
        _("Added by: {name}").format(name=(author.name if author else None) or _("anonymous")),
        _("Source: {source}").format(source=record.source or "—"),
    ]
    waiting = await count_pending(session)
    details.append(
        _("Burial records waiting for review: {count}. Approve this one?").format(count=waiting)
    )
    await bot.send_message(chat_id, "\n".join(details), reply_markup=review_keyboard(record.id))


async def _pending(session: AsyncSession, record_id: int) -> BurialRecord | None:
    record = await session.get(BurialRecord, record_id)
    return record if record is not None and record.status == PENDING else None


@router.callback_query(GraveRevCb.filter())
async def on_button(
    query: CallbackQuery,
    callback_data: GraveRevCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    clock: Clock,
    i18n: I18n,
) -> None:
    if callback_data.action == "next":
        await state.clear()
        await query.answer()
        await show_next_grave(query, session, app, bot, i18n)
        return
    record = await _pending(session, callback_data.record_id)
    if record is None:
        await query.answer(_("This record has already been reviewed."), show_alert=True)
        return
    if callback_data.action == "approve":
        await set_status(session, record, APPROVED)
        queue_decision(session, record, clock.now())
        await match_record(session, record, clock.now())
        await commit(session)
        await show(query, _("Approved: {name}.").format(name=name_as_written(record)))
        await show_next_grave(query, session, app, bot, i18n)
    elif callback_data.action == "reject":
        await state.set_state(GraveRevSt.reason)
        await state.update_data(grave_review_id=record.id)
        await show(
            query,
            _(
                "Please write the reason in a sentence or two; the person who added it will receive it."
            ),
        )
    elif callback_data.action == "fields":
        await show(query, _("Which field shall I correct?"), fields_keyboard(record.id))
    elif callback_data.action == "field" and callback_data.field in FIELDS:
        await state.set_state(GraveRevSt.edit)
        await state.update_data(grave_review_id=record.id, grave_review_field=callback_data.field)
        current = _current(record, callback_data.field) or "—"
        await show(
            query,
            _("{field} now: {value}\nPlease type the new value; “-” clears it.").format(
                field=field_label(callback_data.field), value=current
            ),
        )
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


def _current(record: BurialRecord, field: str) -> str:
    if field in ("born", "died"):
        return stored_date_text(record, field)
    return str(getattr(record, field) or "")


async def _under_review(state: FSMContext, session: AsyncSession) -> BurialRecord | None:
    record_id = (await state.get_data()).get("grave_review_id")
    return await _pending(session, record_id) if isinstance(record_id, int) else None


@router.message(StateFilter(GraveRevSt.reason), TypedAnswer())
async def on_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    clock: Clock,
    i18n: I18n,
) -> None:
    record = await _under_review(state, session)
    await state.clear()
    if record is None:
        await message.answer(_("This record has already been reviewed."))
        return
    await set_status(session, record, REJECTED, reason=(message.text or "").strip())
    told = queue_decision(session, record, clock.now())
    await commit(session)
    await message.answer(
        _("Rejected; the person who added it will receive the reason.") if told else _("Rejected.")
    )
    await show_next_grave(message, session, app, bot, i18n)


@router.message(StateFilter(GraveRevSt.edit), TypedAnswer())
async def on_edit(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    record = await _under_review(state, session)
    field = (await state.get_data()).get("grave_review_field")
    if record is None or field not in FIELDS:
        await state.clear()
        await message.answer(_("This record has already been reviewed."))
        return
    value: str | None = (message.text or "").strip()
    try:
        if value == CLEAR:
            value = None
        elif field in ("born", "died"):
            value = str(parse_typed_date(value))  # 14.05.1923 as well as 1923-05-14
        await update_record(session, record, **{field: value})
    except DateError as exc:
        await message.answer(error_text(exc))  # the state stays: they can type again
        return
    except RecordError as exc:
        await message.answer(error_text(exc))
        return
    await commit(session)
    await state.clear()
    await message.answer(_("Saved."))
    await show_grave(message, record, session, app, bot, i18n)
