"""APScheduler's timetable (wiring only: each job's work lives in its domain). The job store
stays in memory and is rebuilt at every start: the truth (what to send and when) lives in
our tables, not in pickled jobs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from delivery.sending import Delivery

log = logging.getLogger(__name__)

DELIVERY_EVERY_SECONDS = 2
DRAIN_BUDGET_SECONDS = 30.0


def build_scheduler(
    delivery: Delivery,
    monthly_plan: Callable[[], Awaitable[object]] | None = None,
    *,
    plan_day: int = 20,
    plan_hour_utc: int = 9,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        # A tick missed while the loop was busy still runs once (coalesced), not N times.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )

    async def delivery_tick() -> None:
        try:
            # Keep sending while rows are due (a 3,000-member broadcast is one slice of work),
            # but return now and then so shutdown and the next tick stay prompt.
            await delivery.drain(budget_seconds=DRAIN_BUDGET_SECONDS)
        except Exception:  # a failing tick must not stop the next one
            log.exception("delivery tick failed")

    scheduler.add_job(
        delivery_tick,
        "interval",
        seconds=DELIVERY_EVERY_SECONDS,
        id="delivery",
        replace_existing=True,
    )
    if monthly_plan is not None:

        async def monthly_plan_job() -> None:
            try:
                await monthly_plan()
            except Exception:
                log.exception("monthly plan job failed")

        scheduler.add_job(
            monthly_plan_job,
            "cron",
            day=plan_day,
            hour=plan_hour_utc,
            id="monthly-plan",
            replace_existing=True,
            # Down on the day? Still send it when back, up to a day late.
            misfire_grace_time=24 * 3600,
        )
    return scheduler
