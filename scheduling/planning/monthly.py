"""Next month's plan: computed from the members and the burden ledger, and the monthly job
that puts it before the organisers (never the members) through the outbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.members import get_member, locales_of, organiser_ids
from db.unit_of_work import unit_of_work
from delivery.messages import Button, Outgoing, rows_of
from delivery.notes import queue_note
from ground.clock import Clock
from ground.i18n import N_, Translator
from ground.settings import Settings
from scheduling.burden.store import planner_ledger, planner_roster
from scheduling.meetings.lifecycle import latest_start, next_meeting
from scheduling.planner.errors import PlanningError
from scheduling.planner.month_plan import MonthPlan, plan_month
from scheduling.planner.months import YearMonth
from scheduling.planner.slots import Rules
from scheduling.planning.store import claim_monthly_plan
from scheduling.planning.view import plan_text

log = logging.getLogger(__name__)

CONFIRM_OPTION = N_("Confirm option {number}")
TIME_TO_PLAN = N_("Time to plan next month's meeting. Nothing is announced until you confirm.")


def next_month(now: datetime) -> YearMonth:
    return YearMonth.of(now.date()).shifted(1)


def plannable_months(now: datetime) -> tuple[YearMonth, YearMonth]:
    """The first and last month a plan may be made for: from this month to as far ahead as
    a meeting may be set (a plan for 1800 used 1800's offsets; 9999 failed)."""
    this_month = YearMonth.of(now.date())
    return this_month, YearMonth.of(latest_start(now).date()).shifted(-1)


async def compute_plan(
    session: AsyncSession, month: YearMonth, rules: Rules | None = None
) -> MonthPlan:
    """Roster and ledger from the database, the planner in a worker thread (it is CPU work)."""
    members = await planner_roster(session)
    ledger = await planner_ledger(session)
    return await asyncio.to_thread(plan_month, members, rules or Rules(), month, ledger)


def plan_buttons(i18n: Translator, plan: MonthPlan, locale: str) -> tuple[tuple[Button, ...], ...]:
    """One "confirm" button per option; pressing one sets the meeting at that start."""
    options = (plan.choice, *plan.runners_up)
    buttons = (
        Button(
            i18n.gettext(CONFIRM_OPTION, locale=locale).format(number=number),
            "plan",
            (int(option.start_utc.timestamp()),),
        )
        for number, option in enumerate(options, start=1)
    )
    return rows_of(buttons, 1)


def plan_message(i18n: Translator, plan: MonthPlan, zone: str, locale: str) -> Outgoing:
    return Outgoing(plan_text(i18n, plan, zone, locale), plan_buttons(i18n, plan, locale))


async def send_monthly_plan(
    session_factory: async_sessionmaker[AsyncSession],
    i18n: Translator,
    clock: Clock,
    settings: Settings,
) -> int:
    """The monthly job: each organiser is sent next month's plan to confirm.

    Returns how many organisers it was queued for (0 when a meeting is already set, or when
    this month's plan was already sent, by this instance or another). The claim and the
    notes land in one commit, so a plan is sent once, and is not lost to a restart.
    """
    now = clock.now()
    month = next_month(now)
    async with unit_of_work(session_factory) as session:
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
        organisers = sorted(await organiser_ids(session, settings.admin_ids))
        locales = await locales_of(session, organisers, settings.default_locale)
        for telegram_id in organisers:
            organiser = await get_member(session, telegram_id)
            locale = locales[telegram_id]
            zone = (organiser.zone if organiser else None) or "UTC"
            message = plan_message(i18n, plan, zone, locale)
            intro = i18n.gettext(TIME_TO_PLAN, locale=locale)
            note = Outgoing(intro + "\n\n" + message.text, message.buttons)
            queue_note(session, telegram_id, f"plan:{month}", note, due_at=now)
        return len(organisers)
