"""Programme benchmark: what a programme change costs next to announcing a meeting, for
the same members in the same run (issue 18).

Measured, for N registered members: `create_meeting` (the announcement and reminder rows:
the baseline), a talk's first acceptance with the published programme (one notice row per
member), a later edit in the quiet period (the waiting rows are pushed back, none added),
and rendering the calendar feed of 12 meetings with ten-talk programmes against the same
meetings without one. Printed as ratios against the baseline of the same run, so a slow
machine does not read as a slow bot.

    .venv/bin/python -m bench.programme [--members 3000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bench.seed import seed_members
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import Member, OutboxMessage
from handlers.programme_publish import publish
from programme import slots, talks
from scheduling.feeds.calendar import render_calendar
from scheduling.meetings import agenda
from scheduling.meetings.lifecycle import create_meeting

NOW = datetime(2027, 1, 9, 11, 32, tzinfo=UTC)


@dataclass
class FeedMeeting:
    id: int
    uid: str
    starts_at: datetime
    duration_min: int = 240
    theme: str | None = "Улицы старого Харбина"
    link: str | None = "https://meet.example.org/j/1"
    status: str = "scheduled"
    cancel_reason: str | None = None
    sequence: int = 1
    created_at: datetime = NOW
    updated_at: datetime = NOW
    kind: str = "monthly"
    title: str | None = None
    place: str | None = None
    programme: str | None = None


def _feed_ratio(rounds: int = 200) -> tuple[float, float]:
    plain = [FeedMeeting(n, f"m{n}@harbin-club", NOW + timedelta(days=30 * n)) for n in range(12)]
    items = [
        agenda.ProgrammeItem(f"Доклад {k}: Харбин, 1930-е", 20, f"Докладчик {k}", "ru")
        for k in range(10)
    ]
    full = [replace(m, programme=agenda.encode(items)) for m in plain]

    def clock(meetings: list[FeedMeeting]) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            render_calendar(meetings, lambda m: m, "private")
        return (time.perf_counter() - started) / rounds

    return clock(plain), clock(full)


async def run(members: int, url: str) -> dict[str, float]:
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            await seed_members(session, range(10_000, 10_000 + members), at=NOW)
            await session.commit()
        async with sessions() as session:
            started = time.perf_counter()
            meeting = await create_meeting(session, NOW + timedelta(days=7), now=NOW)
            await session.commit()
            baseline = time.perf_counter() - started
            # The announcements went out: a programme change now means a notice for each.
            await session.execute(update(OutboxMessage).values(sent_at=NOW))
            speaker = await session.scalar(select(Member).order_by(Member.id).limit(1))
            assert speaker is not None
            proposals = []
            for n in range(2):
                talk = await talks.create_draft(session, speaker, now=NOW)
                await talks.set_fields(
                    session, talk, now=NOW, title=f"T{n}", abstract="A", language="ru", minutes=20
                )
                await talks.submit(session, talk, now=NOW)
                proposals.append(talk)
            await session.commit()

            started = time.perf_counter()
            await slots.accept(
                session, proposals[0], meeting_id=meeting.id, position=1, minutes=20, now=NOW
            )
            await publish(session, [meeting.id], now=NOW)
            await session.commit()
            first = time.perf_counter() - started

            later = NOW + timedelta(minutes=2)
            started = time.perf_counter()
            await slots.accept(
                session, proposals[1], meeting_id=meeting.id, position=2, minutes=20, now=later
            )
            await publish(session, [meeting.id], now=later)
            await session.commit()
            edit = time.perf_counter() - started
            notices = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == agenda.PROGRAMME)
            )
    finally:
        await engine.dispose()
    plain, full = _feed_ratio()
    return {
        "members": members,
        "baseline_s": baseline,
        "first_s": first,
        "edit_s": edit,
        "notices": float(notices or 0),
        "feed_plain_ms": plain * 1000,
        "feed_programme_ms": full * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        r = asyncio.run(run(args.members, url))
    print(f"members: {int(r['members'])}, programme notices waiting: {int(r['notices'])}")
    print(f"create_meeting (baseline): {r['baseline_s']:.3f} s")
    print(f"first programme: {r['first_s']:.3f} s  ratio {r['first_s'] / r['baseline_s']:.2f}")
    print(f"edit (pushed back): {r['edit_s']:.3f} s  ratio {r['edit_s'] / r['baseline_s']:.2f}")
    print(
        f"feed of 12 meetings: {r['feed_plain_ms']:.2f} ms plain, "
        f"{r['feed_programme_ms']:.2f} ms with ten-talk programmes "
        f"(ratio {r['feed_programme_ms'] / r['feed_plain_ms']:.2f})"
    )


if __name__ == "__main__":
    main()
