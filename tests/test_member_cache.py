"""The member cache (db/member_cache.py): the cache itself, its invalidation by what sessions
commit, the real bot reading through it, invalidations between instances over Redis, and
when the runner turns it on."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.runner import member_cache_for
from db.engine import create_engine, create_session_factory, member_cache_of
from db.member_cache import (
    ALL,
    CHANNEL,
    MEETINGS_CHANGED,
    SETTLE_SECONDS,
    Announcer,
    Entry,
    MemberCache,
    RedisInvalidations,
    decode,
    encode,
    member_columns,
)
from db.members import (
    Registration,
    demote_organiser,
    forget_member,
    get_member,
    member_and_role,
    promote_organiser,
    save_registration,
    update_member,
)
from db.migrate import upgrade_to_head
from db.models import Meeting, Member
from ground.settings import load_settings
from scheduling.meetings.lifecycle import next_meeting
from tests.club import ADMIN_ID, Club, running_club
from tests.dburl import on_postgres

UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
NOT_REGISTERED = "You are not registered yet. Send /start to join the club."
SEEDED_AT = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


class ManualClock:
    """The cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _member(telegram_id: int, name: str = "Anna") -> Member:
    return Member(id=telegram_id, telegram_id=telegram_id, locale="en", name=name)


async def _eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:  # noqa: ASYNC109
    """Poll until `condition()` holds (Redis messages arrive asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {condition}")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- the cache alone


def test_entries_expire_after_the_ttl() -> None:
    clock = ManualClock()
    cache = MemberCache(ttl=10.0, clock=clock)
    cache.put(1, _member(1), False, cache.generation)
    clock.now += 10.0
    entry = cache.get(1)
    assert entry is not None and entry.columns is not None and entry.columns["name"] == "Anna"
    clock.now += 0.5
    assert cache.get(1) is None
    assert (cache.hits, cache.misses) == (1, 1)
    # Stored again, it counts from the new time.
    cache.put(1, _member(1, "Bella"), False, cache.generation)
    clock.now += 9.0
    entry = cache.get(1)
    assert entry is not None and entry.columns is not None and entry.columns["name"] == "Bella"


def test_the_least_recently_used_entry_goes_at_max_entries() -> None:
    cache = MemberCache(max_entries=2)
    cache.put(1, _member(1), False, cache.generation)
    cache.put(2, _member(2), False, cache.generation)
    assert cache.get(1) is not None  # 1 is now the most recently used
    cache.put(3, None, False, cache.generation)
    assert len(cache) == 2
    assert cache.get(2) is None
    assert cache.get(1) is not None and cache.get(3) is not None


def test_a_store_begun_before_an_invalidation_is_ignored() -> None:
    cache = MemberCache()
    began = cache.generation
    cache.invalidate({99})  # someone else's change, committed while the query ran
    assert cache.generation != began
    cache.put(1, _member(1), False, began)
    assert len(cache) == 0 and cache.get(1) is None
    cache.put(1, _member(1), True, cache.generation)
    entry = cache.get(1)
    assert entry is not None and entry.promoted


def test_invalidate_some_or_all() -> None:
    cache = MemberCache()
    for telegram_id in (1, 2, 3):
        cache.put(telegram_id, _member(telegram_id), False, cache.generation)
    cache.put(4, None, False, cache.generation)
    cache.invalidate({2, 404})
    assert len(cache) == 3 and cache.get(2) is None and cache.get(1) is not None
    before = cache.generation
    cache.invalidate(ALL)
    assert len(cache) == 0
    assert cache.generation == before + 1
    assert all(cache.get(telegram_id) is None for telegram_id in (1, 3, 4))


def test_entries_give_fresh_members_and_strangers_stay_none() -> None:
    cache = MemberCache()
    cache.put(1, _member(1, "Anna"), True, cache.generation)
    cache.put(2, None, False, cache.generation)
    entry = cache.get(1)
    assert entry is not None
    first, second = entry.member(), entry.member()
    assert first is not None and second is not None and first is not second
    assert first.name == "Anna" and inspect(first).has_identity
    first.name = "Changed by one update"
    assert second.name == "Anna" and entry.member().name == "Anna"  # type: ignore[union-attr]
    stranger = cache.get(2)
    assert stranger is not None and stranger.member() is None and not stranger.promoted


def test_messages_encode_and_decode() -> None:
    assert decode(encode({3, 1, 2})) == {1, 2, 3}
    assert decode(encode({2**40})) == {2**40}  # Telegram ids outgrow 32 bits
    assert decode(encode(set())) == set()
    assert encode(ALL) == "null" and decode(encode(ALL)) is ALL
    assert decode(b"[5, 6]") == {5, 6}  # Redis hands over bytes
    for garbage in (b"not json", b'{"ids": [5]}', b'["x"]', b"5"):
        with pytest.raises((ValueError, TypeError)):
            decode(garbage)


# ---------------------------------------------------------------- with a database


def _peek(cache: MemberCache, telegram_id: int) -> Entry | None:
    """The live entry, without counting a hit or a miss."""
    hits, misses = cache.hits, cache.misses
    try:
        return cache.get(telegram_id)
    finally:
        cache.hits, cache.misses = hits, misses


@dataclass
class Db:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: MemberCache
    statements: list[str]  # SQL sent to the database, for "a hit costs no query"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    cache = MemberCache()
    try:
        yield Db(engine, create_session_factory(engine, cache), cache, statements)
    finally:
        await engine.dispose()


async def _seed(db: Db, telegram_id: int, name: str = "Anna") -> None:
    async with db.sessions() as session:
        session.add(
            Member(
                telegram_id=telegram_id,
                locale="en",
                name=name,
                country="AU",
                zone="Australia/Sydney",
                city="Sydney",
                hours_start=10 * 60,
                hours_end=20 * 60,
                consent_at=SEEDED_AT,
                registered_at=SEEDED_AT,
            )
        )
        await session.commit()


async def _row(db: Db, telegram_id: int) -> dict[str, object] | None:
    table = Member.__table__
    async with db.sessions() as session:
        row = (
            await session.execute(select(table).where(table.c.telegram_id == telegram_id))
        ).one_or_none()
    return dict(row._mapping) if row is not None else None


async def _assert_cache_agrees(db: Db, telegram_id: int) -> None:
    """Whatever the cache holds for this person is what the database holds."""
    entry = _peek(db.cache, telegram_id)
    if entry is not None:
        assert entry.columns == await _row(db, telegram_id)


async def _read(db: Db, telegram_id: int, config_ids: tuple[int, ...] = ()) -> tuple:
    async with db.sessions() as session:
        return await member_and_role(session, telegram_id, config_ids, db.cache)


async def _read_cached(db: Db, telegram_id: int) -> tuple:
    """A read that must be served by the cache: no SQL at all."""
    hits = db.cache.hits
    del db.statements[:]
    result = await _read(db, telegram_id)
    assert db.statements == [], f"expected a cache hit, the database was asked: {db.statements}"
    assert db.cache.hits > hits
    return result


async def test_a_miss_then_a_hit_without_sql(db: Db) -> None:
    await _seed(db, 501)
    del db.statements[:]
    member, organiser = await _read(db, 501)
    assert member is not None and member.name == "Anna" and not organiser
    assert db.statements and db.cache.misses >= 1  # the first read asks the database

    async with db.sessions() as session:
        hits = db.cache.hits
        del db.statements[:]
        cached, organiser = await member_and_role(session, 501, (), db.cache)
        assert db.statements == [] and db.cache.hits == hits + 1  # the point of the cache
        assert cached is not None and not organiser and inspect(cached).has_identity
        session.add(cached)  # what writers do; attaching needs no SQL either
        assert await session.get(Member, cached.id) is cached
        assert db.statements == []
        assert not session.dirty and not session.is_modified(cached)
        assert member_columns(cached) == await _row(db, 501)
        assert cached.zone == "Australia/Sydney" and cached.registered_at == SEEDED_AT
        # ADMIN_IDS count on top of the cached role.
        _, organiser = await member_and_role(session, 501, (501,), db.cache)
        assert organiser


async def test_update_member_invalidates_and_the_next_read_is_new(db: Db) -> None:
    await _seed(db, 502)
    await _seed(db, 503, name="Other")
    await _read(db, 502)
    await _read(db, 503)
    async with db.sessions() as session:
        hits = db.cache.hits
        cached, _ = await member_and_role(session, 502, (), db.cache)
        assert db.cache.hits == hits + 1  # the member handed to the handler came from the cache
        await update_member(session, cached, name="Bella", hours_start=8 * 60)
        await session.commit()
    entry = _peek(db.cache, 502)
    # Gone, or stored again as committed; never the old copy.
    assert entry is None or entry.columns["name"] == "Bella"  # type: ignore[index]
    await _assert_cache_agrees(db, 502)
    member, _ = await _read(db, 502)
    assert member.name == "Bella" and member.hours_start == 8 * 60
    assert member.zone == "Australia/Sydney"  # untouched columns kept
    stored = await _row(db, 502)
    assert stored is not None and (stored["name"], stored["hours_start"]) == ("Bella", 480)
    # Someone else's entry stays.
    assert (await _read_cached(db, 503))[0].name == "Other"


async def test_overlapping_updates_of_one_member_both_show(db: Db) -> None:
    """Two updates from one person at once (aiogram runs them concurrently), e.g. /lang and
    /hours: each changes its own copy of the member; the cache must not keep either copy."""
    await _seed(db, 511)
    await _read(db, 511)
    async with db.sessions() as first, db.sessions() as second:
        one, _ = await member_and_role(first, 511, (), db.cache)
        two, _ = await member_and_role(second, 511, (), db.cache)
        await update_member(first, one, locale="zh")
        await first.commit()
        await update_member(second, two, hours_start=8 * 60)
        await second.commit()
    stored = await _row(db, 511)
    assert stored is not None and (stored["locale"], stored["hours_start"]) == ("zh", 480)
    member, _ = await _read(db, 511)
    assert (member.locale, member.hours_start) == ("zh", 480)


async def test_forget_member_invalidates(db: Db) -> None:
    await _seed(db, 504)
    await _read(db, 504)
    async with db.sessions() as session:
        cached, _ = await member_and_role(session, 504, (), db.cache)
        assert cached is not None
        assert await forget_member(session, 504)
        await session.commit()
    assert await _read(db, 504) == (None, False)
    assert await _read_cached(db, 504) == (None, False)  # a stranger now, known as such


async def test_a_cached_stranger_becomes_a_member_when_registration_commits(db: Db) -> None:
    await _seed(db, 599)  # the club is not empty
    assert await _read(db, 505) == (None, False)
    assert await _read_cached(db, 505) == (None, False)
    async with db.sessions() as session:
        stranger, _ = await member_and_role(session, 505, (), db.cache)
        assert stranger is None
        await save_registration(
            session,
            Registration(
                telegram_id=505,
                locale="en",
                name="Nina",
                country="CN",
                zone="Asia/Shanghai",
                city="Harbin",
                hours_start=9 * 60,
                hours_end=21 * 60,
            ),
        )
        await session.commit()
    await _assert_cache_agrees(db, 505)
    member, _ = await _read(db, 505)
    assert member is not None and member.name == "Nina" and member.is_registered
    member, _ = await _read_cached(db, 505)
    assert member is not None and member.name == "Nina"
    await _assert_cache_agrees(db, 505)


async def test_promotion_and_demotion_change_the_cached_role(db: Db) -> None:
    await _seed(db, 506)
    assert (await _read(db, 506))[1] is False
    assert (await _read_cached(db, 506))[1] is False
    async with db.sessions() as session:
        assert await promote_organiser(session, 506, added_by=ADMIN_ID)
        await session.commit()
    entry = _peek(db.cache, 506)
    assert entry is None or entry.promoted
    assert (await _read(db, 506))[1] is True
    assert (await _read_cached(db, 506))[1] is True  # the role now comes from the cache
    async with db.sessions() as session:
        assert await demote_organiser(session, 506)
        await session.commit()
    assert (await _read(db, 506))[1] is False
    assert (await _read_cached(db, 506))[1] is False

    # Someone promoted before they ever registered.
    assert await _read(db, 507) == (None, False)
    async with db.sessions() as session:
        assert await promote_organiser(session, 507, added_by=ADMIN_ID)
        await session.commit()
    assert await _read(db, 507) == (None, True)
    assert await _read_cached(db, 507) == (None, True)


async def test_a_rolled_back_change_leaves_no_trace(db: Db) -> None:
    await _seed(db, 508)
    await _read(db, 508)
    async with db.sessions() as session:
        member, _ = await member_and_role(session, 508, (), db.cache)
        session.add(member)
        member.name = "Never committed"
        await session.flush()
        assert _peek(db.cache, 508) is None  # dropped at the flush already
        # Read again inside the transaction, the flushed name gets cached...
        again, _ = await member_and_role(session, 508, (), db.cache)
        entry = _peek(db.cache, 508)
        assert again.name == "Never committed"
        assert entry is not None and entry.columns["name"] == "Never committed"  # type: ignore[index]
        await session.rollback()
        assert _peek(db.cache, 508) is None  # ...and goes with the rollback
    member, _ = await _read(db, 508)
    assert member.name == "Anna"
    await _assert_cache_agrees(db, 508)


async def test_the_delivery_marking_a_member_unreachable_is_seen(db: Db) -> None:
    await _seed(db, 509)
    member, _ = await _read(db, 509)
    assert member.reachable is True
    async with db.sessions() as session:
        # As Delivery._send does on a 403: the row by primary key, changed, committed.
        row = await session.get(Member, member.id)
        assert row is not None
        row.reachable = False
        await session.commit()
    await _assert_cache_agrees(db, 509)
    member, _ = await _read(db, 509)
    assert member.reachable is False


async def test_writes_outside_the_app_wait_for_the_ttl(database_url: str) -> None:
    """An operator's SQL (or a factory without the cache) is not heard: the TTL bounds it."""
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    clock = ManualClock()
    cache = MemberCache(ttl=60.0, clock=clock)
    app_sessions = create_session_factory(engine, cache)
    outside = create_session_factory(engine)
    try:
        async with app_sessions() as session:
            session.add(Member(telegram_id=510, locale="en", name="Anna"))
            await session.commit()
        async with app_sessions() as session:
            await member_and_role(session, 510, (), cache)
        async with outside() as session:
            stored = await get_member(session, 510)
            assert stored is not None
            await update_member(session, stored, name="Changed outside")
            await session.commit()
        async with app_sessions() as session:
            member, _ = await member_and_role(session, 510, (), cache)
            assert member.name == "Anna"  # within the TTL, the cached copy
        clock.now += 61.0
        async with app_sessions() as session:
            member, _ = await member_and_role(session, 510, (), cache)
            assert member.name == "Changed outside"
    finally:
        await engine.dispose()


async def test_app_writes_do_not_extend_an_outside_change_past_the_ttl(database_url: str) -> None:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    clock = ManualClock()
    cache = MemberCache(ttl=60.0, clock=clock)
    app_sessions = create_session_factory(engine, cache)
    try:
        async with app_sessions() as session:
            session.add(Member(telegram_id=512, locale="en", name="Old"))
            await session.commit()
        async with app_sessions() as session:
            await member_and_role(session, 512, (), cache)
        async with create_session_factory(engine)() as session:  # an operator's change
            stored = await get_member(session, 512)
            assert stored is not None
            await update_member(session, stored, name="Operator")
            await session.commit()
        for hour in (8, 9, 10):
            clock.now += 40.0  # the member changes their hours, within each TTL
            async with app_sessions() as session:
                member, _ = await member_and_role(session, 512, (), cache)
                await update_member(session, member, hours_start=hour * 60)
                await session.commit()
        async with app_sessions() as session:
            member, _ = await member_and_role(session, 512, (), cache)
        # 120 s after the outside change, with a 60 s TTL.
        assert (member.name, member.hours_start) == ("Operator", 600)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- through the real bot


def _cache_settings() -> dict[str, object]:
    """SQLite caches without a bus; PostgreSQL caches only with Redis to carry the news."""
    if not on_postgres():
        return {}
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("on PostgreSQL the member cache needs Redis (TEST_REDIS_URL)")
    return {"redis_url": redis_url}


def _cache_of(club: Club) -> MemberCache:
    cache = member_cache_of(club.app.ctx.session_factory)
    assert cache is not None, "the running bot has no member cache"
    return cache


async def test_profile_changes_and_forget_show_at_once(tmp_path: Path) -> None:
    async with running_club(tmp_path, **_cache_settings()) as club:
        cache = _cache_of(club)
        user = club.user(7101, first_name="Anna", language_code="en")
        await club.register(user)
        reply = await club.say(user, "/me")
        assert "Name: Anna" in (reply.text or "")

        hits = cache.hits
        reply = await club.say(user, "/name New Name")
        assert reply.text == "Name saved: New Name."
        assert cache.hits > hits  # /name changed the member the cache handed it
        reply = await club.say(user, "/me")
        assert "Name: New Name" in (reply.text or "")
        stored = await club.member(7101)
        assert stored is not None and stored.name == "New Name" and stored.zone

        hits = cache.hits
        reply = await club.say(user, "/me")
        assert "Name: New Name" in (reply.text or "") and cache.hits > hits

        await club.say(user, "/forget")
        reply = await club.press(user, "Yes, delete everything")
        assert "deleted" in (reply.text or "")
        reply = await club.say(user, "/me")
        assert reply.text == NOT_REGISTERED
        assert await club.member(7101) is None


async def test_a_demoted_organiser_is_refused_at_once(tmp_path: Path) -> None:
    async with running_club(tmp_path, **_cache_settings()) as club:
        cache = _cache_of(club)
        admin = club.user(ADMIN_ID, first_name="Olga", language_code="en")
        await club.register(admin)
        helper = club.user(7201, first_name="Vera", language_code="en")
        await club.register(helper)
        assert (await club.say(helper, "/members")).text == UNKNOWN_COMMAND

        reply = await club.say(admin, "/admins add 7201")
        assert "Added to the organisers" in (reply.text or "")
        assert "Members: 2" in ((await club.say(helper, "/members")).text or "")
        hits = cache.hits
        reply = await club.say(helper, "/help")
        assert "/broadcast: " in (reply.text or "") and cache.hits > hits  # role from the cache

        reply = await club.say(admin, "/admins remove 7201")
        assert reply.text == "Removed from the organisers."
        assert (await club.say(helper, "/members")).text == UNKNOWN_COMMAND
        assert "/broadcast" not in ((await club.say(helper, "/help")).text or "")
        assert cache.hits > hits


async def test_admin_commands_ask_the_database_not_the_cache(tmp_path: Path) -> None:
    """Demoted by a writer the cache never hears of (another instance without Redis, an
    operator's SQL): the cache still says organiser, and the admin command is refused."""
    async with running_club(tmp_path, **_cache_settings()) as club:
        cache = _cache_of(club)
        admin = club.user(ADMIN_ID, language_code="en")
        await club.register(admin)
        helper = club.user(7301, first_name="Vera", language_code="en")
        await club.register(helper)
        await club.say(admin, "/admins add 7301")
        assert "Members: 2" in ((await club.say(helper, "/members")).text or "")

        engine = create_engine(club.settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                assert await demote_organiser(session, 7301)
                await session.commit()
        finally:
            await engine.dispose()
        entry = cache.get(7301)
        assert entry is not None and entry.promoted  # stale, as expected without news

        assert (await club.say(helper, "/members")).text == UNKNOWN_COMMAND
        assert (await club.say(helper, "/admins add 7302")).text == UNKNOWN_COMMAND
        async with club.app.ctx.session_factory() as session:
            assert await get_member(session, 7302) is None


# ---------------------------------------------------------------- between instances (Redis)


async def _subscribed(*buses: RedisInvalidations) -> None:
    """Until every listener has heard a message: `start()` only launches the listener."""
    publisher = buses[0]
    deadline = asyncio.get_running_loop().time() + 5.0
    while not all(bus.received for bus in buses):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the listeners never subscribed")
        await publisher.publish(set())  # an invalidation of nobody
        await asyncio.sleep(0.02)


@pytest.fixture
async def buses() -> AsyncIterator[tuple[RedisInvalidations, RedisInvalidations]]:
    url = os.environ["TEST_REDIS_URL"]
    one, two = RedisInvalidations(url, MemberCache()), RedisInvalidations(url, MemberCache())
    try:
        await one.start()
        await two.start()
        await _subscribed(one, two)
        yield one, two
    finally:
        await one.close()
        await two.close()


@pytest.mark.redis
async def test_an_invalidation_published_on_one_instance_reaches_the_other(
    buses: tuple[RedisInvalidations, RedisInvalidations],
) -> None:
    one, two = buses
    for telegram_id in (5, 6):
        two.cache.put(telegram_id, _member(telegram_id), False, two.cache.generation)
    await one.publish({5})
    await _eventually(lambda: len(two.cache) == 1)
    assert two.cache.get(5) is None and two.cache.get(6) is not None
    await one.publish(ALL)
    await _eventually(lambda: len(two.cache) == 0)


@pytest.mark.redis
async def test_meeting_changes_reach_the_other_instance_and_its_feed_caches(
    buses: tuple[RedisInvalidations, RedisInvalidations],
) -> None:
    one, two = buses
    feed_changes: list[int] = []
    two.on_change = lambda: feed_changes.append(1)
    starts = datetime(2027, 3, 6, 10, 0, tzinfo=UTC)
    meeting = Meeting(id=1, uid="m@test", starts_at=starts, duration_min=90)
    two.cache.set_scheduled_meetings([meeting], two.cache.meetings_generation)
    assert two.cache.scheduled_meetings() is not None
    await one.publish_meetings()
    await _eventually(lambda: two.cache.scheduled_meetings() is None)
    assert feed_changes, "the feed caches were not told"


def test_a_message_applied_by_hand_reaches_cache_and_feed_counter() -> None:
    """What the listener does with each message, without Redis."""
    counted: list[str] = []
    bus = RedisInvalidations("redis://127.0.0.1:1/0", MemberCache(), lambda: counted.append("x"))
    bus.cache.put(5, _member(5), False, bus.cache.generation)
    bus.apply(encode({5}).encode())
    assert bus.cache.get(5) is None and counted == ["x"]
    bus.cache.set_scheduled_meetings([], bus.cache.meetings_generation)
    bus.apply(MEETINGS_CHANGED)
    assert bus.cache.scheduled_meetings() is None and counted == ["x", "x"]


@pytest.mark.redis
async def test_a_malformed_message_is_ignored_and_the_listener_lives_on(
    buses: tuple[RedisInvalidations, RedisInvalidations],
) -> None:
    from redis.asyncio import Redis

    _, two = buses
    for telegram_id in (5, 6):
        two.cache.put(telegram_id, _member(telegram_id), False, two.cache.generation)
    raw = Redis.from_url(os.environ["TEST_REDIS_URL"])
    try:
        received = two.received
        for garbage in (b"not json", b'{"ids": [5]}', b'["x"]'):
            await raw.publish(CHANNEL, garbage)
        await _eventually(lambda: two.received >= received + 3)
        assert len(two.cache) == 2  # nothing dropped, and no reconnect (it would drop all)
        await raw.publish(CHANNEL, encode({5}))
        await _eventually(lambda: two.cache.get(5) is None)
        assert two.cache.get(6) is not None
    finally:
        await raw.aclose()


@pytest.mark.redis
async def test_a_commit_on_one_instance_invalidates_the_other(database_url: str) -> None:
    url = os.environ["TEST_REDIS_URL"]
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    one = RedisInvalidations(url, MemberCache())
    two = RedisInvalidations(url, MemberCache())
    try:
        await one.start()
        await two.start()
        await _subscribed(one, two)
        sessions_one = create_session_factory(engine, one.cache, Announcer(one))
        sessions_two = create_session_factory(engine, two.cache, Announcer(two))
        async with sessions_one() as session:
            session.add(Member(telegram_id=601, locale="en", name="Anna"))
            await session.commit()
        for _ in range(2):
            hits = two.cache.hits
            async with sessions_two() as session:
                member, _ = await member_and_role(session, 601, (), two.cache)
                assert member.name == "Anna"
        assert two.cache.hits == hits + 1  # the second read came from two's cache
        async with sessions_one() as session:
            member, _ = await member_and_role(session, 601, (), one.cache)
            await update_member(session, member, name="Bella")
            await session.commit()
            await promote_organiser(session, 601, added_by=ADMIN_ID)
            await session.commit()
        await _eventually(lambda: len(two.cache) == 0)
        async with sessions_two() as session:
            member, organiser = await member_and_role(session, 601, (), two.cache)
            assert member.name == "Bella" and organiser
    finally:
        await one.close()
        await two.close()
        await engine.dispose()


# ---------------------------------------------------------------- when the runner caches


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, **{"redis_url": None, **overrides})


def test_sqlite_caches_without_a_bus() -> None:
    cache, bus = member_cache_for(_settings(member_cache_seconds=42), "sqlite")
    assert isinstance(cache, MemberCache) and cache.ttl == 42
    assert bus is None


def test_a_shared_database_without_redis_does_not_cache() -> None:
    assert member_cache_for(_settings(), "postgresql") == (None, None)


def test_zero_seconds_turns_the_cache_off() -> None:
    assert member_cache_for(_settings(member_cache_seconds=0), "sqlite") == (None, None)
    off = _settings(member_cache_seconds=0, redis_url="redis://127.0.0.1:1/0")
    assert member_cache_for(off, "postgresql") == (None, None)


async def test_redis_carries_the_invalidations() -> None:
    settings = _settings(redis_url="redis://127.0.0.1:1/0")  # never connected: not started
    cache, bus = member_cache_for(settings, "postgresql")
    try:
        assert isinstance(cache, MemberCache) and cache.ttl == settings.member_cache_seconds
        assert isinstance(bus, RedisInvalidations) and bus.cache is cache
    finally:
        if bus is not None:
            await bus.close()


# ---------------------------------------------------------------- scheduled meetings


def _meeting(starts_at: datetime, status: str = "scheduled") -> Meeting:
    return Meeting(uid=f"{starts_at.isoformat()}@test", starts_at=starts_at, status=status)


async def test_no_coming_meeting_is_known_without_a_query(db: Db) -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    async with db.sessions() as session:
        session.add(_meeting(now - timedelta(days=30)))  # long over
        await session.commit()
        assert await next_meeting(session, now) is None  # asks, and remembers
    del db.statements[:]
    async with db.sessions() as session:
        assert await next_meeting(session, now) is None
    assert db.statements == [], db.statements

    # A new meeting is committed: the next lookup finds it.
    async with db.sessions() as session:
        session.add(_meeting(now + timedelta(days=5)))
        await session.commit()
    async with db.sessions() as session:
        coming = await next_meeting(session, now)
        assert coming is not None and coming.starts_at == now + timedelta(days=5)
        # Cancelled in bulk (as /cancelmeeting might): the cache forgets it.
        await session.execute(update(Meeting).values(status="cancelled"))
        await session.commit()
    async with db.sessions() as session:
        assert await next_meeting(session, now) is None


async def test_a_stale_meeting_entry_falls_back_to_the_database(db: Db) -> None:
    """Another instance moved the meeting and its message has not arrived yet."""
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    async with db.sessions() as session:
        session.add(_meeting(now + timedelta(days=5)))
        await session.commit()
        await next_meeting(session, now)  # cached
    async with db.engine.begin() as connection:  # a write the cache does not hear of
        await connection.execute(update(Meeting).values(starts_at=now + timedelta(days=9)))
    async with db.sessions() as session:
        coming = await next_meeting(session, now)
    assert coming is not None and coming.starts_at == now + timedelta(days=9)


async def test_a_stalled_redis_does_not_hold_up_a_commit(db: Db) -> None:
    """A Redis that accepts connections and never answers: the commit still returns."""

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bus = RedisInvalidations(f"redis://127.0.0.1:{port}/0", db.cache)
    sessions = create_session_factory(db.engine, db.cache, Announcer(bus))
    try:
        started = asyncio.get_running_loop().time()
        async with sessions() as session:
            session.add(Member(telegram_id=777, locale="en", name="Quick"))
            await asyncio.wait_for(session.commit(), timeout=5)
        waited = asyncio.get_running_loop().time() - started
        assert waited < SETTLE_SECONDS + 1.0, waited
        assert (await _row(db, 777)) is not None
    finally:
        server.close()
        await bus.redis.aclose()
        await bus.listener_redis.aclose()
