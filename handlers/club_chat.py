"""The club's own channel or group (CLUB_CHAT_ID), and what its posts' buttons open.

- In a group the bot answers /next briefly, in the club's language, and says nothing of
  any member; it stays silent otherwise (the update middleware lets only /next through).
- /start e<id> (a meeting), a<id> (the memoir of the month) and next: a post's button
  opens the bot, which answers each reader in their own language and time; someone who
  is not a member yet starts registering.
- /memoirofmonth: organisers choose an approved memoir; it is posted in the club chat.
- The organisers' note about a chat that refused a post has a button that posts again.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from archive import memoirs as records
from archive import month
from db.models import Meeting, Member
from db.unit_of_work import commit
from delivery import club_chat
from delivery.messages import Outgoing
from ground.clock import Clock
from ground.context import AppContext
from ground.settings import Settings
from handlers.callbacks import ClubCb
from handlers.files import store_of
from handlers.gates import organisers
from handlers.keyboards import Keyboard
from handlers.meetings import cmd_next, next_text
from handlers.memoirs import memoir_card, send_memoir_media
from handlers.outbound import markup_of
from handlers.registration import start_registration
from handlers.replies import clip, show
from scheduling.meetings.club_posts import NEXT_PARAMETER, club_brief, meeting_of_start
from scheduling.meetings.lifecycle import upcoming_meetings
from scheduling.meetings.notices import rsvp_buttons

router = Router(name="club_chat")

BRIEF_MEETINGS = 3
START_LINKS = r"^(e\d{1,10}|a\d{1,10}|" + NEXT_PARAMETER + ")$"


class InGroup(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.chat.type in ("group", "supergroup")


@router.message(InGroup())
async def group_next(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    app: AppContext,
    clock: Clock,
    bot: Bot,
) -> None:
    me = await bot.me()
    command = (message.text or "").split(maxsplit=1)[0]
    mention = command.partition("@")[2]
    if mention and mention.lower() != (me.username or "").lower():
        return  # /next for another bot in the same group
    meetings = await upcoming_meetings(session, clock.now())
    brief = club_brief(
        app.i18n, settings.default_locale, settings.club_zones, meetings[:BRIEF_MEETINGS]
    )
    await message.answer(brief.text, reply_markup=markup_of(brief, me.username))


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(START_LINKS)))
async def on_start_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    i18n: I18n,
    clock: Clock,
    app: AppContext,
    bot: Bot,
) -> None:
    if member is None or not member.is_registered:
        await start_registration(message, state, i18n, clock, i18n.current_locale)
        return
    await state.clear()
    parameter = command.args or ""
    meeting_id = meeting_of_start(parameter)
    memoir_id = month.memoir_of_start(parameter)
    if meeting_id is not None:
        meeting = await session.get(Meeting, meeting_id)
        coming = {m.id for m in await upcoming_meetings(session, clock.now())}
        if meeting is None or meeting.id not in coming:
            await message.answer(
                _("This meeting is over or was cancelled. /next shows what is coming.")
            )
            return
        text = next_text(i18n, member, meeting)
        buttons = rsvp_buttons(i18n, member.locale, meeting)
        await message.answer(text, reply_markup=markup_of(Outgoing(text, buttons)))
    elif memoir_id is not None:
        memoir = await records.load_memoir(session, memoir_id)
        if memoir is None or memoir.status != records.APPROVED:
            await message.answer(_("This memoir is not available."))
            return
        await message.answer(memoir_card(memoir))
        await send_memoir_media(bot, message.chat.id, store_of(app), memoir.media)
    else:
        await cmd_next(message, session, member, i18n, clock)


# ---------------------------------------------------------------- organisers


class MonthCb(CallbackData, prefix="mom"):
    action: str  # pick | post
    memoir_id: int


@organisers.message(Command("memoirofmonth"))
async def cmd_memoir_of_month(message: Message, session: AsyncSession, settings: Settings) -> None:
    if settings.club_chat_id is None:
        await message.answer(
            _(
                "No club chat is set. Put its id in CLUB_CHAT_ID and make me an administrator "
                "there, allowed to post."
            )
        )
        return
    choices = await month.recent_approved(session)
    if not choices:
        await message.answer(_("No memoirs have been approved yet."))
        return
    builder = Keyboard()
    for memoir in choices:
        builder.button(
            text=clip(
                f"«{memoir.title or _('Untitled')}» · {memoir.author_name or _('anonymous')}", 60
            ),
            callback_data=MonthCb(action="pick", memoir_id=memoir.id),
        )
    await message.answer(
        _("Which memoir is the memoir of the month? It will be posted in the club chat."),
        reply_markup=builder.as_markup(),
    )


@organisers.callback_query(MonthCb.filter())
async def on_memoir_of_month(
    query: CallbackQuery,
    callback_data: MonthCb,
    session: AsyncSession,
    settings: Settings,
    app: AppContext,
    clock: Clock,
) -> None:
    memoir = await records.load_memoir(session, callback_data.memoir_id)
    if memoir is None or memoir.status != records.APPROVED:
        await query.answer(_("This memoir is not available."), show_alert=True)
        return
    if callback_data.action == "pick":
        post = month.memoir_post(app.i18n, settings.default_locale, memoir)
        builder = Keyboard()
        builder.button(
            text=_("📣 Post it in the club chat"),
            callback_data=MonthCb(action="post", memoir_id=memoir.id),
        )
        await show(
            query,
            _("The post will read:") + "\n\n" + clip(post.text, 3500),
            builder.as_markup(),
        )
        return
    await month.post_memoir_of_month(
        session, memoir, app.i18n, settings.default_locale, now=clock.now()
    )
    await commit(session)
    await show(query, _("Posted: it appears in the club chat within a minute."))


@organisers.callback_query(ClubCb.filter(F.action == "retry"))
async def on_club_retry(query: CallbackQuery, session: AsyncSession, clock: Clock) -> None:
    count = await club_chat.release_held(session, clock.now())
    await commit(session)
    if not count:
        await show(query, _("Nothing is waiting for the club chat."))
        return
    await show(
        query,
        ngettext(
            "Posting again: {count} post. If the chat still refuses it, I will tell you.",
            "Posting again: {count} posts. If the chat still refuses them, I will tell you.",
            count,
        ).format(count=count),
    )
