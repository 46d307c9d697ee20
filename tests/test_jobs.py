"""The in-memory job store rebuilt at start: delivery interval and the monthly plan cron."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs import DELIVERY_EVERY_SECONDS, build_scheduler


class _NoDelivery:
    async def drain(self, **_: object) -> None:
        return None


async def _nothing() -> None:
    return None


async def test_jobs_are_coalesced_with_generous_grace() -> None:
    scheduler = build_scheduler(_NoDelivery(), _nothing, plan_day=20, plan_hour_utc=9)  # type: ignore[arg-type]
    # Job defaults are applied when the scheduler starts; paused, nothing runs.
    scheduler.start(paused=True)
    delivery = scheduler.get_job("delivery")
    monthly = scheduler.get_job("monthly-plan")
    assert delivery is not None and monthly is not None
    assert delivery.trigger.interval.total_seconds() == DELIVERY_EVERY_SECONDS
    assert monthly.misfire_grace_time == 24 * 3600
    assert delivery.coalesce and monthly.coalesce
    first = monthly.trigger.get_next_fire_time(None, datetime(2027, 1, 9, tzinfo=UTC))
    assert first == datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    following = monthly.trigger.get_next_fire_time(first, datetime(2027, 1, 21, tzinfo=UTC))
    assert following == datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
    scheduler.shutdown(wait=False)


def test_without_a_planner_only_delivery_runs() -> None:
    scheduler = build_scheduler(_NoDelivery())  # type: ignore[arg-type]
    assert [job.id for job in scheduler.get_jobs()] == ["delivery"]
