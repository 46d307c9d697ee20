"""/relatives: the families a member looks for (add, see, remove), the memoirs the outbox
pointed them to, and the answers to an introduction with another member looking for the
same family. Matching and introductions are in `burials/relatives.py`.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from archive import memoirs as archive
from burials import relatives
from burials.relatives import WishAdded
from burials.seeking import WishError, parse_years
from db.models import Member, RelativeWish
from db.unit_of_work import commit
from ground.clock import Clock
from ground.context import AppContext
from handlers.callbacks import IntroCb, RelCb
from handlers.files import store_of
from handlers.filters import TypedAnswer
from handlers.gates import registered
from handlers.keyboards import Keyboard
from handlers.memoirs import memoir_card, send_memoir_media
from handlers.replies import show

router = Router(name="relatives")


class RelSt(StatesGroup):
    surname = State()
    place = State()
    years = State()
    intro_name = State()
    note = State()


def wish_label(wish: RelativeWish) -> str:
    details = [wish.place] if wish.place else []
    if wish.year_from and wish.year_to:
        same = wish.year_from == wish.year_to
        details.append(str(wish.year_from) if same else f"{wish.year_from}–{wish.year_to}")
    return f"{wish.surname} ({', '.join(details)})" if details else wish.surname


def render_list(wishes: list[RelativeWish]) -> tuple[str, InlineKeyboardMarkup]:
    builder = Keyboard()
    for wish in wishes:
        builder.button(
            text=("❌ " + wish_label(wish))[:60], callback_data=RelCb(action="remove", ref=wish.id)
        )
    builder.button(text=_("➕ Add a family"), callback_data=RelCb(action="add"))
    builder.adjust(1)
    if not wishes:
        text = _(
            "Tell me the surnames of the families you are looking for, in any script. When a "
            "burial record or a memoir about one of them comes to the club, I will tell you; "
            "and if another member looks for the same family, I will ask you both whether you "
            "want to be put in touch."
        )
        return text, builder.as_markup()
    lines = [_("You are looking for these families:")]
    lines += [f"• {wish_label(wish)}" for wish in wishes]
    lines += ["", _("Press a family to remove it.")]
    return "\n".join(lines), builder.as_markup()


def skip_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("Skip"), callback_data=RelCb(action="skip"))
    return builder.as_markup()


def wish_error_text(exc: WishError) -> str:
    return _(exc.message).format(**exc.params)


def added_text(added: WishAdded) -> str:
    lines = [_("Saved: {family}.").format(family=wish_label(added.wish))]
    if added.matches:
        lines.append(
            ngettext(
                "I found {count} record or memoir that may concern it; it comes in the next message.",
                "I found {count} records and memoirs that may concern it; they come in the next messages.",
                added.matches,
            ).format(count=added.matches)
        )
    else:
        lines.append(
            _("Nothing yet: I will tell you when a record or memoir about this family comes.")
        )
    if added.introductions:
        lines.append(
            ngettext(
                "{count} other member is looking for this family too: I will ask you both "
                "whether you want to be put in touch.",
                "{count} other members are looking for this family too: I will ask each of you "
                "whether you want to be put in touch.",
                added.introductions,
            ).format(count=added.introductions)
        )
    return "\n".join(lines)


@router.message(Command("relatives"))
@registered
async def cmd_relatives(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    if (await state.get_state() or "").startswith(RelSt.__name__):
        await state.set_state(None)  # a half-typed family is left; other dialogues are not
    surname = " ".join((command.args or "").split())
    if surname:  # /relatives Щукин: a surname alone, no place or years
        await _add(message, state, session, member, clock, surname, None, None)
        return
    await show(message, *render_list(await relatives.list_wishes(session, member.id)))


async def _add(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
    surname: str,
    place: str | None,
    years: str | None,
) -> None:
    try:
        added = await relatives.add_wish(
            session, member.id, surname, place=place, years=years, now=clock.now()
        )
    except WishError as exc:
        await state.clear()
        await show(event, wish_error_text(exc))
        return
    await commit(session)
    await state.clear()
    wishes = await relatives.list_wishes(session, member.id)
    text, markup = render_list(wishes)
    await show(event, added_text(added) + "\n\n" + text, markup)


@router.callback_query(RelCb.filter(F.action.in_({"add", "remove", "list"})))
@registered
async def on_list_button(
    query: CallbackQuery,
    callback_data: RelCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
) -> None:
    if callback_data.action == "add":
        await state.set_state(RelSt.surname)
        await show(
            query,
            _("Which surname? Type it as you know it, in any script: Щукин, Shchukin or 休金."),
        )
        return
    if callback_data.action == "remove":
        removed = await relatives.remove_wish(session, member.id, callback_data.ref)
        await commit(session)
        if not removed:  # one answer per press: the alert, and the list stays as it was
            await query.answer(_("This family is no longer in your list."), show_alert=True)
            return
    await show(query, *render_list(await relatives.list_wishes(session, member.id)))


@router.message(StateFilter(RelSt.surname), TypedAnswer())
async def on_surname(message: Message, state: FSMContext) -> None:
    surname = " ".join((message.text or "").split())
    try:
        relatives.check_surname(surname)
    except WishError as exc:
        await message.answer(wish_error_text(exc))  # the question stays: they can type again
        return
    await state.update_data(relatives_surname=surname)
    await state.set_state(RelSt.place)
    await message.answer(
        _("Where did they live or lie buried? A town or a cemetery, or skip."),
        reply_markup=skip_keyboard(),
    )


@router.message(StateFilter(RelSt.place), TypedAnswer())
async def on_place(message: Message, state: FSMContext) -> None:
    place = " ".join((message.text or "").split())
    if len(place) > relatives.MAX_PLACE:
        await message.answer(
            _("Please keep it under {limit} characters.").format(limit=relatives.MAX_PLACE)
        )
        return
    await state.update_data(relatives_place=place)
    await _ask_years(message, state)


async def _ask_years(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(RelSt.years)
    await show(
        event,
        _("Which years? Type 1923, 1900-1950 or 1930s, or skip."),
        skip_keyboard(),
    )


@router.message(StateFilter(RelSt.years), TypedAnswer())
async def on_years(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    years = " ".join((message.text or "").split())
    try:
        parse_years(years)
    except WishError as exc:
        await message.answer(wish_error_text(exc), reply_markup=skip_keyboard())
        return
    data = await state.get_data()
    surname, place = data.get("relatives_surname"), data.get("relatives_place")
    if not isinstance(surname, str):
        await state.clear()
        await message.answer(_("Please start again with /relatives."))
        return
    await _add(message, state, session, member, clock, surname, place or None, years)


@router.callback_query(RelCb.filter(F.action == "skip"))
@registered
async def on_skip(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    step = await state.get_state()
    data = await state.get_data()
    surname = data.get("relatives_surname")
    if step == RelSt.place.state:
        await state.update_data(relatives_place=None)
        await _ask_years(query, state)
    elif step == RelSt.years.state and isinstance(surname, str):
        place = data.get("relatives_place")
        await _add(query, state, session, member, clock, surname, place or None, None)
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


@router.callback_query(RelCb.filter(F.action == "memoir"))
@registered
async def on_memoir(
    query: CallbackQuery, callback_data: RelCb, session: AsyncSession, app: AppContext, bot: Bot
) -> None:
    memoir = await archive.load_memoir(session, callback_data.ref)
    if memoir is None or memoir.status != archive.APPROVED:
        await query.answer(_("This memoir is not available."), show_alert=True)
        return
    await query.answer()
    await bot.send_message(query.from_user.id, memoir_card(memoir))
    await send_memoir_media(bot, query.from_user.id, store_of(app), memoir.media)


# ---------------------------------------------------------------- introductions


def _closed_text() -> str:
    return _("This request is no longer open.")


def name_keyboard(member: Member, intro_id: int) -> InlineKeyboardMarkup | None:
    if not member.name:
        return None
    builder = Keyboard()
    builder.button(
        text=_("Call me “{name}”").format(name=member.name)[:60],
        callback_data=IntroCb(action="myname", intro_id=intro_id),
    )
    return builder.as_markup()


@router.callback_query(IntroCb.filter())
@registered
async def on_intro(
    query: CallbackQuery,
    callback_data: IntroCb,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    clock: Clock,
) -> None:
    side = await relatives.side_of(session, callback_data.intro_id, member.id)
    if side is None:
        await query.answer(_closed_text(), show_alert=True)
        return
    action = callback_data.action
    if action == "write":
        if not relatives.can_relay(side):
            await query.answer(_("You have already sent your message."), show_alert=True)
            return
        await state.set_state(RelSt.note)
        await state.update_data(intro_id=side.intro.id)
        await show(
            query,
            _(
                "Please write your message: who you are, what you know about the family and how "
                "to reach you. I will pass it on once, with the name you chose."
            ),
        )
        return
    if side.mine("answer") is not None or side.declined:
        await query.answer(_closed_text(), show_alert=True)
        return
    if action == "no":
        await relatives.answer(session, side, False, clock.now())
        await commit(session)
        await state.clear()
        await show(
            query,
            _("All right: nothing about you was shared, and I won't ask about this again."),
        )
    elif action == "yes":
        await state.set_state(RelSt.intro_name)
        await state.update_data(intro_id=side.intro.id)
        await show(
            query,
            _(
                "Which name shall I give the other member? Type it, or use the button. Your "
                "Telegram account is not shown unless you agree to it in the next step."
            ),
            name_keyboard(member, side.intro.id),
        )
    elif action == "myname" and member.name:
        await _chosen_name(query, state, session, member, side, member.name, clock)
    elif action in ("link", "nolink"):
        data = await state.get_data()
        name = data.get("intro_chosen_name")
        if not isinstance(name, str) or data.get("intro_id") != side.intro.id:
            await query.answer(_closed_text(), show_alert=True)
            return
        username = query.from_user.username if action == "link" else None
        await _agree(query, state, session, side, name, username, clock)
    else:
        await query.answer(_("This button is no longer active."), show_alert=True)


async def _chosen_name(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
    side: relatives.Side,
    name: str,
    clock: Clock,
) -> None:
    """Ask about the link only to someone who has a Telegram username."""
    username = event.from_user.username if event.from_user else None
    if not username:
        await _agree(event, state, session, side, name, None, clock)
        return
    await state.update_data(intro_chosen_name=name)
    builder = Keyboard()
    builder.button(
        text=_("Yes, share the link"), callback_data=IntroCb(action="link", intro_id=side.intro.id)
    )
    builder.button(
        text=_("No, pass on messages"),
        callback_data=IntroCb(action="nolink", intro_id=side.intro.id),
    )
    builder.adjust(1)
    await show(
        event,
        _(
            "May I also give them a link to write to you directly: t.me/{username}? "
            "If not, I will pass on one message from each of you."
        ).format(username=username),
        builder.as_markup(),
    )


async def _agree(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    side: relatives.Side,
    name: str,
    username: str | None,
    clock: Clock,
) -> None:
    outcome = await relatives.answer(session, side, True, clock.now(), name=name, link=username)
    await commit(session)
    await state.clear()
    if outcome == relatives.MET:
        text = _("Thank you! You both agreed: how to reach each other comes in the next message.")
    elif outcome == relatives.DECLINED:
        text = _("The other member preferred not to be put in touch. Nothing about you was shared.")
    else:
        text = _("Thank you. I will tell you when the other member answers.")
    await show(event, text)


@router.message(StateFilter(RelSt.intro_name), TypedAnswer())
async def on_intro_name(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    intro_id = (await state.get_data()).get("intro_id")
    side = (
        await relatives.side_of(session, intro_id, member.id) if isinstance(intro_id, int) else None
    )
    if side is None or side.mine("answer") is not None or side.declined:
        await state.clear()
        await message.answer(_closed_text())
        return
    name = " ".join((message.text or "").split())
    if not name:
        await message.answer(_("Please type the name the other member should see."))
        return
    if len(name) > relatives.MAX_NAME:
        await message.answer(
            _("Please keep it under {limit} characters.").format(limit=relatives.MAX_NAME)
        )
        return
    await _chosen_name(message, state, session, member, side, name, clock)


@router.message(StateFilter(RelSt.note), TypedAnswer())
async def on_note(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, clock: Clock
) -> None:
    intro_id = (await state.get_data()).get("intro_id")
    side = (
        await relatives.side_of(session, intro_id, member.id) if isinstance(intro_id, int) else None
    )
    if side is None or not relatives.can_relay(side):
        await state.clear()
        await message.answer(_closed_text())
        return
    try:
        await relatives.relay(session, side, message.text or "", clock.now())
    except WishError as exc:
        await message.answer(wish_error_text(exc))  # the state stays: they can type again
        return
    await commit(session)
    await state.clear()
    await message.answer(
        _("Sent. {name} will receive your message.").format(name=side.theirs("name"))
    )
