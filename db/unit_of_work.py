"""One owner of each transaction.

Services add and flush; they never commit. The owner of the work commits once when it is
done: for an update, the update's middleware (handlers/middlewares.py) when the handler
returns, or the handler itself just before it confirms something to the person; for a
job, `unit_of_work` around its run. What must wait for the commit (removing files that a
deleted row referred to) is registered with `after_commit` and runs only if it succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

AFTER_COMMIT = "after_commit_actions"
Action = Callable[[], Awaitable[object]]


def after_commit(session: AsyncSession, action: Action) -> None:
    """Run `action` once this session's work is committed (never if it is rolled back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


def has_pending_work(session: AsyncSession) -> bool:
    """Anything to commit: an open transaction, objects added or changed, waiting actions."""
    sync = session.sync_session
    if sync.in_transaction() or sync.info.get(AFTER_COMMIT):
        return True
    if not sync.identity_map and not sync.new:
        return False  # the common case: an update that never touched the database
    return bool(sync.new or sync.dirty or sync.deleted)


async def run_after_commit(session: AsyncSession) -> None:
    """Run (once) what waited for this session's commit; the app's sessions call it."""
    for action in session.info.pop(AFTER_COMMIT, []):
        try:
            await action()
        except Exception:  # the data is safe; a leftover file is found by the start-up check
            log.exception("an after-commit action failed")


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop(AFTER_COMMIT, None)


async def commit(session: AsyncSession) -> None:
    """Commit the work so far, then run what waited for it."""
    await session.commit()
    await run_after_commit(session)


async def rollback(session: AsyncSession) -> None:
    discard_after_commit(session)
    await session.rollback()


@asynccontextmanager
async def unit_of_work(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends, or rolled back on error."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        if has_pending_work(session):
            await commit(session)
