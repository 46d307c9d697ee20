"""Organisers: /plan shows the fair candidates and confirms one; /fairness shows the burden."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.members import get_member, promoted_organiser_ids
from db.models import Member
from ground.clock import Clock
from ground.context import AppContext
from ground.settings import Settings
from handlers.admin import OrganisersOnly
from handlers.callbacks import PlanCb
from handlers.keyboards import Keyboard
from handlers.organisers import meeting_error_text, zoom_note
from handlers.replies import show
from scheduling.geo import localtime
from scheduling.meetings import zoom
from scheduling.meetings.lifecycle import (
    MeetingError,
    create_meeting,
    next_meeting,
    reschedule_meeting,
)
from scheduling.planner.errors import PlanningError
from scheduling.planner.month_plan import MonthPlan, plan_month
from scheduling.planner.months import YearMonth
from scheduling.planner.slots import Rules
from scheduling.planning.store import (
    claim_monthly_plan,
    fairness_by_place,
    planner_ledger,
    planner_roster,
)
from scheduling.planning.view import fairness_text, plan_text

log = logging.getLogger(__name__)
router = Router(name="planning")
router.message.middleware(OrganisersOnly())
router.callback_query.middleware(OrganisersOnly())


def next_month(now: datetime) -> YearMonth:
    return YearMonth.of(now.date()).shifted(1)


async def compute_plan(
    session: AsyncSession, month: YearMonth, rules: Rules | None = None
) -> MonthPlan:
    """Roster and ledger from the database, the planner in a worker thread (it is CPU work)."""
    members = await planner_roster(session)
    ledger = await planner_ledger(session)
    return await asyncio.to_thread(plan_month, members, rules or Rules(), month, ledger)


def plan_markup(plan: MonthPlan) -> InlineKeyboardMarkup:
    keyboard = Keyboard()
    for number, option in enumerate((plan.choice, *plan.runners_up), start=1):
        keyboard.button(
            text=_("Confirm option {number}").format(number=number),
            callback_data=PlanCb(start=int(option.start_utc.timestamp())),
        )
    return keyboard.as_markup()


@router.message(Command("plan"))
async def cmd_plan(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    text = (command.args or "").strip()
    try:
        month = YearMonth.parse(text) if text else next_month(clock.now())
    except (ValueError, PlanningError):
        await message.answer(_("Please write the month like this: /plan 2027-03"))
        return
    try:
        plan = await compute_plan(session, month)
    except PlanningError as exc:
        log.info("no plan for %s: %s", month, exc)
        await message.answer(
            _("I can't plan that month: there are no members yet, or no allowed time.")
        )
        return
    zone = (member.zone if member else None) or "UTC"
    locale = member.locale if member else "en"
    await message.answer(plan_text(plan, zone, locale), reply_markup=plan_markup(plan))


@router.callback_query(PlanCb.filter())
async def on_plan_confirm(
    query: CallbackQuery,
    settings: Settings,
    callback_data: PlanCb,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
) -> None:
    now = clock.now()
    starts_at = datetime.fromtimestamp(callback_data.start, UTC)
    zone = (member.zone if member else None) or "UTC"
    when = localtime.format_meeting_time(starts_at, zone, member.locale if member else "en")
    upcoming = await next_meeting(session, now)
    if upcoming is not None:
        # Re-running the planner for the month of the set meeting moves it (everyone is told,
        # as with /reschedule); a meeting of another month must be dealt with first.
        if YearMonth.of(upcoming.starts_at.date()) != YearMonth.of(starts_at.date()):
            await query.answer(
                _("A meeting is already set. Cancel or reschedule it first."), show_alert=True
            )
            return
        try:
            await reschedule_meeting(session, upcoming, starts_at, now=now)
        except MeetingError as exc:
            await query.answer(meeting_error_text(exc), show_alert=True)
            return
        outcome = await zoom.on_meeting_rescheduled(session, upcoming, settings, now=now)
        await show(
            query,
            _("The meeting is moved to {when}. Everyone is being told.").format(
                when=f"{when} ({zone})"
            )
            + zoom_note("move", outcome),
        )
        return
    try:
        meeting = await create_meeting(session, starts_at, now=now, source="planner")
    except MeetingError:
        await query.answer(
            _("That time has already passed. Please choose a future time."), show_alert=True
        )
        return
    # The same path as a hand-set meeting: Zoom (when configured) fills in the link.
    outcome = await zoom.on_meeting_confirmed(session, meeting, settings, now=now)
    await show(
        query,
        _("Confirmed: the meeting is on {when} ({zone}). Members are being told.").format(
            when=when, zone=zone
        )
        + zoom_note("create", outcome),
    )


@router.message(Command("fairness"))
async def cmd_fairness(message: Message, session: AsyncSession) -> None:
    await message.answer(fairness_text(await fairness_by_place(session)))


async def send_monthly_plan(bot: Bot, app: AppContext) -> int:
    """The monthly cron job: organisers get next month's plan to confirm; members get nothing.

    Returns how many organisers were sent the plan (0 when a meeting is already set, or
    when this month's plan was already sent, by this instance or another).
    """
    now = app.clock.now()
    month = next_month(now)
    async with app.session_factory() as session:
        upcoming = await next_meeting(session, now)
        if upcoming is not None and YearMonth.of(upcoming.starts_at.date()) >= month:
            return 0
        try:
            plan = await compute_plan(session, month)
        except PlanningError as exc:
            log.warning("monthly plan for %s not made: %s", month, exc)
            return 0
        if not await claim_monthly_plan(session, str(month), now):
            return 0  # another instance (or an earlier run) already sent it
        organiser_ids = sorted(set(app.settings.admin_ids) | await promoted_organiser_ids(session))
        sent = 0
        for telegram_id in organiser_ids:
            organiser = await get_member(session, telegram_id)
            locale = organiser.locale if organiser else app.settings.default_locale
            zone = (organiser.zone if organiser else None) or "UTC"
            with app.i18n.context(), app.i18n.use_locale(locale):
                text = _(
                    "Time to plan next month's meeting. Nothing is announced until you confirm."
                )
                text += "\n\n" + plan_text(plan, zone, locale)
                markup = plan_markup(plan)
            try:
                await bot.send_message(telegram_id, text, reply_markup=markup)
                sent += 1
            except TelegramAPIError as exc:
                log.warning("could not send the monthly plan to organiser %s: %s", telegram_id, exc)
    return sent
