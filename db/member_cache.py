"""An in-process cache of who is a member, so an ordinary update needs no database query.

Every update used to start with a query for the sender's member row and organiser role;
through aiosqlite that was most of the CPU a button press cost. The cache keeps a copy of
the row's columns (or "not a member") per Telegram id.

Staleness is prevented, not waited out:
- every session from the app's factory reports the members and organisers it flushed,
  and any bulk UPDATE/DELETE of those tables; they are dropped from the cache when the
  transaction commits (and also at flush, so a reader never keeps an old copy);
- other instances hear of the same commits through `RedisInvalidations` when Redis is
  configured; without Redis a non-SQLite database turns the cache off (see `cache_for`);
- entries also expire after `ttl` seconds, for writes made outside the app (an operator's
  SQL), and the oldest entries go when `max_entries` is reached.

Admin actions do not trust the cache: `OrganisersOnly` asks the database every time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    make_transient_to_detached,
)

from db.models import Meeting, Member, Organiser
from db.unit_of_work import discard_after_commit, run_after_commit

log = logging.getLogger(__name__)

ALL = None  # an invalidation of every entry
# Execution option naming the Telegram ids a bulk UPDATE/DELETE touches; without it the
# whole cache is dropped.
AFFECTS = "member_cache_affects"
_PENDING_KEY = "member_cache_pending"
# session.info keys: the app's SQLite write queue, and "this transaction has written".
WRITER_LOCK = "sqlite_writer_lock"
_WRITING = "writing"
_COLUMNS = tuple(attr.key for attr in Member.__mapper__.column_attrs)
_MEMBER_MANAGER = Member.__mapper__.class_manager


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """A scheduled meeting as the cache keeps it: enough to tell whether one is coming."""

    id: int
    starts_at: datetime
    duration_min: int
    kind: str = "monthly"  # a special event, or the monthly meeting


@dataclass(frozen=True, slots=True)
class Entry:
    """What the cache knows of one Telegram id."""

    columns: dict[str, Any] | None  # None: this person is not a member
    promoted: bool  # promoted to organiser in the chat (ADMIN_IDS are checked apart)
    stored_at: float

    def member(self) -> Member | None:
        """A fresh detached Member for this update; the caller attaches it to its session."""
        if self.columns is None:
            return None
        # Filled as a query would fill it: straight into __dict__, with no change history,
        # so attaching it and committing later writes only what a handler changes.
        member: Member = _MEMBER_MANAGER.new_instance()
        member.__dict__.update(self.columns)
        make_transient_to_detached(member)
        return member


def member_columns(member: Member) -> dict[str, Any]:
    return {key: getattr(member, key) for key in _COLUMNS}


class MemberCache:
    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self.hits = 0
        self.misses = 0
        # Bumped by every invalidation: a query that started before one must not be stored.
        self.generation = 0
        # Everyone who has a member row or was promoted: anybody else is a stranger, known
        # without a query (a first /start). None until loaded, and after "invalidate all".
        self._directory: set[int] | None = None
        self._directory_at = 0.0
        # The scheduled meetings, soonest first, so that "is a meeting coming?" (asked when
        # a member joins) needs no query. Separate generation: meetings change apart.
        self._meetings: tuple[UpcomingMeeting, ...] | None = None
        self._meetings_at = 0.0
        self.meetings_generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, stored_at: float) -> bool:
        return self.clock() - stored_at <= self.ttl

    def get(self, telegram_id: int) -> Entry | None:
        entry = self._entries.get(telegram_id)
        if entry is None or not self._fresh(entry.stored_at):
            self.misses += 1
            return None
        self._entries.move_to_end(telegram_id)
        self.hits += 1
        return entry

    def promoted(self, telegram_id: int) -> bool | None:
        """Whether the cache knows this id was promoted (None: it does not know)."""
        entry = self._entries.get(telegram_id)
        if entry is not None:
            return entry.promoted if self._fresh(entry.stored_at) else None
        if not self.needs_directory() and telegram_id not in (self._directory or ()):
            return False  # a stranger until now: no organiser row either
        return None

    def put(self, telegram_id: int, member: Member | None, promoted: bool, generation: int) -> None:
        """Store what a query read, unless something was invalidated since it began."""
        if generation != self.generation:
            return
        columns = member_columns(member) if member is not None else None
        self._entries[telegram_id] = Entry(columns, promoted, self.clock())
        self._entries.move_to_end(telegram_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, telegram_ids: Iterable[int] | None) -> None:
        self.generation += 1
        if telegram_ids is ALL:
            self._entries.clear()
            self._directory = None
            return
        for telegram_id in telegram_ids:
            self._entries.pop(telegram_id, None)
            if self._directory is not None:
                # Perhaps a member now: the next update asks the database.
                self._directory.add(telegram_id)

    def scheduled_meetings(self) -> tuple[UpcomingMeeting, ...] | None:
        """The scheduled meetings soonest first, or None when the cache does not know."""
        if self._meetings is None or not self._fresh(self._meetings_at):
            return None
        return self._meetings

    def set_scheduled_meetings(self, meetings: Iterable[Meeting], generation: int) -> None:
        if generation == self.meetings_generation:
            self._meetings = tuple(
                UpcomingMeeting(m.id, m.starts_at, m.duration_min, m.kind) for m in meetings
            )
            self._meetings_at = self.clock()

    def invalidate_meetings(self) -> None:
        self.meetings_generation += 1
        self._meetings = None

    def forget_everything(self) -> None:
        self.invalidate(ALL)
        self.invalidate_meetings()

    def needs_directory(self) -> bool:
        return self._directory is None or not self._fresh(self._directory_at)

    def set_directory(self, telegram_ids: Iterable[int], generation: int) -> None:
        """Store who has a row, unless something was invalidated since the query began."""
        if generation == self.generation:
            self._directory = set(telegram_ids)
            self._directory_at = self.clock()

    def is_stranger(self, telegram_id: int) -> bool:
        """True only when the directory is loaded and fresh and this id is not in it."""
        if self.needs_directory():
            return False
        assert self._directory is not None
        if telegram_id in self._directory:
            return False
        self.hits += 1
        return True


# ---------------------------------------------------------------- change tracking


class Invalidations(Protocol):
    """Tells the other instances which entries to drop."""

    async def publish(self, telegram_ids: set[int] | None) -> None: ...

    async def publish_meetings(self) -> None: ...


def _pending(session: Session) -> dict[str, Any]:
    return session.info.setdefault(
        _PENDING_KEY,
        {"ids": set(), "all": False, "members": {}, "roles": set()},
    )


def _note_flush(session: Session, _context: object) -> None:
    """Drop what this flush wrote (a concurrent update must not read the old copy), and
    remember the written members so the commit can store their new state."""
    session.info[_WRITING] = True
    cache: MemberCache | None = session.info.get("member_cache")
    pending = _pending(session)
    # Each of these properties builds a new collection: take them once, not per object.
    new = list(session.new)
    inserted = {id(obj) for obj in new}
    deleted = set(session.deleted)
    for obj in (*new, *session.dirty, *deleted):
        if isinstance(obj, Meeting):
            pending["meetings"] = True
            continue
        if not isinstance(obj, Member | Organiser) or obj.telegram_id is None:
            continue
        telegram_id = int(obj.telegram_id)
        pending["ids"].add(telegram_id)
        if isinstance(obj, Organiser) or obj in deleted:
            pending["roles"].add(telegram_id)  # re-read these rather than guess
            continue
        if id(obj) not in inserted:
            # A changed row is only dropped: this session's copy may predate another
            # update's commit, so only the database knows the whole row now. (A row is
            # new in one flush at most, so a later flush cannot add it back.)
            pending["members"].pop(telegram_id, None)
            continue
        # A new row is ours alone until it commits: its copy is the whole row.
        promoted = cache.promoted(telegram_id) if cache is not None else None
        if promoted is not None:
            pending["members"][telegram_id] = (obj, promoted)
    _drop(session, pending)
    if cache is not None:
        pending["generation"] = cache.generation


def _note_bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE/DELETE of members or organisers: the ids it names, or everyone."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WRITING] = True
    if not (state.is_update or state.is_delete):
        return
    if any(mapper.class_ is Meeting for mapper in state.all_mappers):
        pending = _pending(state.session)
        pending["meetings"] = True
        _drop(state.session, pending)
    if any(mapper.class_ in (Member, Organiser) for mapper in state.all_mappers):
        pending = _pending(state.session)
        named = state.execution_options.get(AFFECTS)
        if named is None:
            pending["all"] = True
        else:
            pending["ids"].update(int(telegram_id) for telegram_id in named)
            pending["roles"].update(int(telegram_id) for telegram_id in named)
        _drop(state.session, pending)


def _drop(session: Session, pending: dict[str, Any]) -> None:
    cache: MemberCache | None = session.info.get("member_cache")
    if cache is None:
        return
    if pending["all"] or pending["ids"]:
        cache.invalidate(ALL if pending["all"] else pending["ids"])
    if pending.get("meetings"):
        cache.invalidate_meetings()


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is None or not (pending["all"] or pending["ids"] or pending.get("meetings")):
        return
    cache: MemberCache | None = session.info.get("member_cache")
    # Nobody invalidated anything since our last flush: what we wrote is the row.
    untouched = cache is not None and cache.generation == pending.get("generation")
    _drop(session, pending)
    if cache is not None and untouched and not pending["all"]:
        for telegram_id, (member, promoted) in pending["members"].items():
            if telegram_id not in pending["roles"] and _fully_loaded(member):
                cache.put(telegram_id, member, promoted, cache.generation)
    announcer: Announcer | None = session.info.get("member_cache_announce")
    if announcer is not None:
        if pending["all"] or pending["ids"]:
            announcer(ALL if pending["all"] else set(pending["ids"]))
        if pending.get("meetings"):
            announcer.meetings()


def _fully_loaded(member: Member) -> bool:
    # Columns a new row never set read as None without SQL; expired ones would need a load.
    return not inspect(member).expired_attributes


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Any transaction's end; what it flushed is dropped unless a commit stored it."""
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_WRITING, None)
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is not None:
        _drop(session, pending)  # what was flushed and rolled back may have been re-read


class TrackingSession(AsyncSession):
    """Commits one at a time on SQLite; after each commit, waits until other instances have
    been told what changed."""

    async def commit(self) -> None:
        lock: asyncio.Lock | None = self.info.get(WRITER_LOCK)
        if lock is None or self.info.get(_WRITING) or not self._has_changes():
            # Nothing to write, or this transaction already holds SQLite's write lock
            # (it flushed earlier): waiting for the other writers could deadlock.
            await super().commit()
        else:
            # SQLite takes one writer at a time, and a second one sleeps in growing steps
            # (1, 2, 5, 10 ms...) until the first is done: a burst of presses then waited
            # up to 100 ms. Queued here, each writes as soon as the previous one commits.
            async with lock:
                await super().commit()
        announcer: Announcer | None = self.info.get("member_cache_announce")
        if announcer is not None:
            await announcer.settle()
        await run_after_commit(self)  # e.g. remove files whose rows this commit deleted

    async def rollback(self) -> None:
        discard_after_commit(self)
        await super().rollback()

    def _has_changes(self) -> bool:
        sync = self.sync_session
        return bool(sync.new or sync.deleted or sync.dirty)


def tracking_session_class() -> type[Session]:
    """A Session subclass of its own, so each app's listeners see only its sessions."""
    cls: type[Session] = type("MemberTrackingSession", (Session,), {})
    event.listen(cls, "after_flush", _note_flush)
    event.listen(cls, "do_orm_execute", _note_bulk)
    event.listen(cls, "after_commit", _after_commit)
    event.listen(cls, "after_transaction_end", _after_transaction_end)
    return cls


SETTLE_SECONDS = 1.0


class Announcer:
    """Publishes each commit's invalidations; `settle()` waits until they are out."""

    def __init__(self, invalidations: Invalidations | None) -> None:
        self.invalidations = invalidations
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, telegram_ids: set[int] | None) -> None:
        if self.invalidations is not None:
            self._start(self.invalidations.publish(telegram_ids))

    def meetings(self) -> None:
        if self.invalidations is not None:
            self._start(self.invalidations.publish_meetings())

    def _start(self, publishing: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(publishing))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, publishing: Coroutine[Any, Any, None]) -> None:
        try:
            await publishing
        except Exception as exc:  # the TTL still bounds how stale another instance gets
            log.warning("could not publish member cache invalidations: %s", exc)

    async def settle(self) -> None:
        """Wait for the publications, but never hold a commit up for a stalled Redis."""
        if self._tasks:
            _done, late = await asyncio.wait(list(self._tasks), timeout=SETTLE_SECONDS)
            if late:
                log.warning("member cache invalidations are slow to publish")


# ---------------------------------------------------------------- across instances

CHANNEL = "harbin:member-cache"
MEETINGS_CHANGED = '"meetings"'  # the message for "drop the scheduled meetings"


def encode(telegram_ids: set[int] | None) -> str:
    return json.dumps(None if telegram_ids is ALL else sorted(telegram_ids))


def decode(payload: str | bytes) -> set[int] | None:
    data = json.loads(payload)
    return ALL if data is None else {int(item) for item in data}


class RedisInvalidations:
    """Invalidations over Redis pub/sub: each instance publishes and listens."""

    def __init__(
        self, url: str, cache: MemberCache, on_change: Callable[[], None] | None = None
    ) -> None:
        from redis.asyncio import Redis

        self.cache = cache
        # Also told of every message: the feed server's caches key on such a counter.
        self.on_change = on_change
        # Publishing must fail fast (a commit waits for it, briefly); the listener's
        # connection is idle for long stretches, so it only gets health checks.
        self.redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.listener_redis = Redis.from_url(
            url, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._listener: asyncio.Task[None] | None = None
        self.received = 0

    async def publish(self, telegram_ids: set[int] | None) -> None:
        await self.redis.publish(CHANNEL, encode(telegram_ids))

    async def publish_meetings(self) -> None:
        await self.redis.publish(CHANNEL, MEETINGS_CHANGED)

    def apply(self, payload: str | bytes) -> None:
        """One message from another instance (or our own echo): drop what it names."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        if text == MEETINGS_CHANGED:
            self.cache.invalidate_meetings()
        else:
            self.cache.invalidate(decode(text))
        if self.on_change is not None:
            self.on_change()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("member cache invalidations: %s; reconnecting", exc)
            # Messages may have been missed while disconnected.
            self.cache.forget_everything()
            await asyncio.sleep(1.0)

    async def _listen(self) -> None:
        pubsub = self.listener_redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            self.cache.forget_everything()  # anything cached before this point may be stale
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                self.received += 1
                try:
                    self.apply(message["data"])
                except (ValueError, TypeError, OverflowError):
                    log.warning("ignored a malformed member cache message")
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.redis.aclose()
        await self.listener_redis.aclose()
