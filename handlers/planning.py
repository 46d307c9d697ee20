"""Organisers: /plan shows the fair candidates and confirms one; /fairness shows the burden."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member
from db.unit_of_work import commit
from ground.clock import Clock
from ground.settings import Settings
from handlers.callbacks import PlanCb
from handlers.gates import organisers as router
from handlers.organisers import meeting_error_text, zoom_note
from handlers.outbound import markup_of
from handlers.replies import in_brackets, show
from scheduling.burden.store import fairness_by_place
from scheduling.geo import localtime
from scheduling.meetings import zoom
from scheduling.meetings.lifecycle import (
    MeetingError,
    create_meeting,
    next_meeting,
    reschedule_meeting,
)
from scheduling.planner.errors import PlanningError
from scheduling.planner.months import YearMonth
from scheduling.planning.monthly import compute_plan, next_month, plan_message, plannable_months
from scheduling.planning.view import fairness_text

log = logging.getLogger(__name__)


@router.message(Command("plan"))
async def cmd_plan(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    i18n: I18n,
) -> None:
    text = (command.args or "").strip()
    try:
        month = YearMonth.parse(text) if text else next_month(clock.now())
    except (ValueError, PlanningError):
        await message.answer(_("Please write the month like this: /plan 2027-03"))
        return
    first, last = plannable_months(clock.now())
    if not first <= month <= last:
        await message.answer(
            _("Please choose a month from {first} to {last}.").format(first=first, last=last)
        )
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
    reply = plan_message(i18n, plan, zone, i18n.current_locale)
    await message.answer(reply.text, reply_markup=markup_of(reply))


@router.callback_query(PlanCb.filter())
async def on_plan_confirm(
    query: CallbackQuery,
    settings: Settings,
    callback_data: PlanCb,
    session: AsyncSession,
    member: Member | None,
    clock: Clock,
    i18n: I18n,
) -> None:
    now = clock.now()
    starts_at = datetime.fromtimestamp(callback_data.start, UTC)
    zone = (member.zone if member else None) or "UTC"
    when = localtime.format_meeting_time(starts_at, zone, i18n.current_locale)
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
            await commit(session)
        except MeetingError as exc:
            await query.answer(meeting_error_text(exc), show_alert=True)
            return
        outcome = await zoom.on_meeting_rescheduled(session, upcoming, settings, now=now)
        await commit(session)
        await show(
            query,
            _("The meeting is moved to {when}. Everyone is being told.").format(
                when=when + in_brackets(zone, i18n.current_locale)
            )
            + zoom_note("move", outcome),
        )
        return
    try:
        meeting = await create_meeting(session, starts_at, now=now, source="planner")
        await commit(session)
    except MeetingError as exc:
        await query.answer(meeting_error_text(exc), show_alert=True)
        return
    # The same path as a hand-set meeting: Zoom (when configured) fills in the link.
    outcome = await zoom.on_meeting_confirmed(session, meeting, settings, now=now)
    await commit(session)
    await show(
        query,
        _("Confirmed: the meeting is on {when} ({zone}). Members are being told.").format(
            when=when, zone=zone
        )
        + zoom_note("create", outcome),
    )


@router.message(Command("fairness"))
async def cmd_fairness(message: Message, session: AsyncSession, i18n: I18n) -> None:
    places = await fairness_by_place(session)
    await message.answer(fairness_text(i18n, places, i18n.current_locale))
