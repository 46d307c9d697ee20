"""One person's updates are handled one at a time, in order (bot/middlewares.Turns)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.app import build_dispatcher
from ground.context import AppContext
from handlers.middlewares import SharedThrottle, SharedTurns, Throttle, Turns, UpdateContext
from tests.club import Club


async def test_turns_run_one_person_in_order_and_others_alongside() -> None:
    turns = Turns()
    log: list[str] = []

    async def update(user_id: int, name: str, pause: float) -> None:
        async with turns.turn(user_id):
            log.append(f"{name} starts")
            await asyncio.sleep(pause)
            log.append(f"{name} ends")

    await asyncio.gather(
        update(1, "a1", 0.05),  # slow, arrives first
        update(1, "a2", 0.0),
        update(2, "b1", 0.0),  # someone else: need not wait for a1
        update(1, "a3", 0.0),
    )
    assert log.index("b1 ends") < log.index("a1 ends")
    mine = [entry for entry in log if entry.startswith("a")]
    assert mine == ["a1 starts", "a1 ends", "a2 starts", "a2 ends", "a3 starts", "a3 ends"]
    assert len(turns) == 0  # nothing kept once everyone is done


async def test_a_failing_update_releases_the_turn() -> None:
    turns = Turns()

    async def failing() -> None:
        async with turns.turn(7):
            raise RuntimeError("boom")

    results = await asyncio.gather(failing(), failing(), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    async with asyncio.timeout(1), turns.turn(7):
        pass
    assert len(turns) == 0


async def test_replies_keep_the_order_of_the_messages(club: Club) -> None:
    """The first reply is slow to send; the second message must still be answered second."""
    user = club.user(4401, first_name="Vera", language_code="en")
    await club.register(user)
    club.fake.inject("sendMessage", chat_id=4401, delay=0.4)
    user.send_text("/me")
    user.send_text("/help")
    first, second = await user.expect_replies(2)
    assert "Name: Vera" in (first.text or "")
    assert "/me" in (second.text or "")  # the help text lists the commands
    assert first.message_id < second.message_id


async def test_two_quick_presses_of_one_button_act_once(club: Club) -> None:
    """The second press sees the step the first one moved to, and is a stale button."""
    user = club.user(4402, first_name="Ivan", language_code="en")
    user.send_text("/start")
    await user.expect_reply()
    first = user.press("English")
    second = user.press("English")  # before the bot has handled the first
    await club.fake.wait_for(lambda: not club.fake.unanswered_callbacks())
    answers = {
        str(r.params["callback_query_id"]): r.params.get("text")
        for r in club.fake.requests_for("answerCallbackQuery")
    }
    assert answers[str(first)] is None  # the press did its work: no message needed
    assert "no longer active" in (answers[str(second)] or "")
    name_prompts = [m for m in user.messages() if "How should we call you" in (m.text or "")]
    assert len(name_prompts) == 1


async def test_a_turn_says_whether_it_waited_for_an_earlier_update() -> None:
    turns = Turns()
    seen: dict[str, bool] = {}

    async def update(name: str) -> None:
        async with turns.turn(1) as waited:
            seen[name] = waited
            await asyncio.sleep(0.01)

    await asyncio.gather(update("first"), update("second"))
    assert seen == {"first": False, "second": True}


# ---------------------------------------------------------------- across instances (Redis)


@pytest.fixture
async def two_instances() -> AsyncIterator[tuple[SharedTurns, SharedTurns]]:
    """Two instances' turns over one Redis, as two webhook processes would have them."""
    clients = [Redis.from_url(os.environ["TEST_REDIS_URL"]) for _ in range(2)]
    try:
        await clients[0].delete(*(f"harbin:turn:{user_id}" for user_id in (51, 52, 53)))
        yield SharedTurns(clients[0]), SharedTurns(clients[1])
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.redis
async def test_two_instances_take_turns_for_one_person(
    two_instances: tuple[SharedTurns, SharedTurns],
) -> None:
    one, two = two_instances
    log: list[str] = []
    waited: dict[str, bool] = {}

    async def update(turns: SharedTurns, user_id: int, name: str, pause: float) -> None:
        async with turns.turn(user_id) as did_wait:
            waited[name] = did_wait
            log.append(f"{name} starts")
            await asyncio.sleep(pause)
            log.append(f"{name} ends")

    first = asyncio.create_task(update(one, 51, "press on one", 0.3))
    await asyncio.sleep(0.05)  # the first press holds the person's turn
    await asyncio.gather(
        update(two, 51, "press on two", 0.0),  # the double tap, on the other instance
        update(two, 52, "someone else", 0.0),  # need not wait for anybody
    )
    await first
    assert log.index("someone else ends") < log.index("press on one ends")
    assert log.index("press on one ends") < log.index("press on two starts")
    # The one that waited re-reads the dialogue state before its handler runs.
    assert waited == {"press on one": False, "press on two": True, "someone else": False}
    assert await one.redis.exists("harbin:turn:51") == 0  # freed, not left to expire


@pytest.mark.redis
async def test_a_failing_update_frees_the_shared_turn(
    two_instances: tuple[SharedTurns, SharedTurns],
) -> None:
    one, two = two_instances
    with pytest.raises(RuntimeError):
        async with one.turn(53):
            raise RuntimeError("boom")
    async with asyncio.timeout(1), two.turn(53) as waited:
        assert not waited


async def test_the_app_shares_turns_only_when_dialogues_live_in_redis(
    unconnected_app_context: AppContext,
) -> None:
    ctx = unconnected_app_context
    redis = Redis.from_url("redis://127.0.0.1:9/0")  # never connected here
    try:
        in_memory = _update_context(build_dispatcher(ctx))
        shared = _update_context(build_dispatcher(ctx, RedisStorage(redis)))
        assert type(in_memory.turns) is Turns and type(in_memory.throttle) is Throttle
        assert isinstance(shared.turns, SharedTurns) and shared.turns.redis is redis
        assert isinstance(shared.throttle, SharedThrottle) and shared.throttle.redis is redis
    finally:
        await redis.aclose()


def _update_context(dispatcher: Dispatcher) -> UpdateContext:
    return next(m for m in dispatcher.update.outer_middleware if isinstance(m, UpdateContext))


@pytest.mark.redis
async def test_a_flood_spread_over_two_instances_is_one_flood() -> None:
    clients = [Redis.from_url(os.environ["TEST_REDIS_URL"]) for _ in range(2)]
    try:
        await clients[0].delete("harbin:flood:61", "harbin:flood:62")
        one, two = (SharedThrottle(client, rate_per_sec=0.01, burst=3) for client in clients)
        # Three messages pass wherever they land; the fourth is refused, with one warning
        # for the burst however many instances refuse it.
        assert [await one.check(61), await two.check(61), await one.check(61)] == [
            (True, False)
        ] * 3
        assert await two.check(61) == (False, True)
        assert await one.check(61) == (False, False)
        assert await two.check(62) == (True, False)  # someone else has their own bucket
        ttl = await clients[0].ttl("harbin:flood:61")
        assert 0 < ttl <= 301  # kept no longer than it takes to refill
    finally:
        for client in clients:
            await client.aclose()


async def test_without_redis_the_flood_control_of_the_process_decides() -> None:
    redis = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)  # nobody there
    try:
        throttle = SharedThrottle(redis, rate_per_sec=0.01, burst=2)
        assert [await throttle.check(5) for _ in range(3)] == [
            (True, False),
            (True, False),
            (False, True),
        ]
    finally:
        await redis.aclose()


def test_flood_control_forgets_buckets_that_have_refilled() -> None:
    throttle = Throttle(rate_per_sec=1.0, burst=2)  # refills in 2 s
    assert throttle.allow(1, now=100.0) == (True, False)
    assert throttle.allow(1, now=100.0) == (True, False)
    assert throttle.allow(1, now=100.0) == (False, True)
    assert throttle.allow(2, now=101.0) == (True, False)
    assert len(throttle) == 2
    # Long after: both buckets are full again, so they are dropped, and nothing changes
    # for their owners: a full burst, and a new warning for a new flood.
    assert throttle.allow(3, now=200.0) == (True, False)
    assert len(throttle) == 1
    assert [throttle.allow(1, now=200.0) for _ in range(3)] == [
        (True, False),
        (True, False),
        (False, True),
    ]
