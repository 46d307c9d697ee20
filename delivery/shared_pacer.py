"""One pace for every instance of a bot: the pacer's rules kept in Redis.

Telegram's limits belong to the bot token, not to a process. With several instances each
permit is granted by one Lua script (atomic in Redis, timed by Redis's clock): the same
sliding window as `delivery.pacer.SlidingWindow` (a sorted set of the permits of the last
second), the spacing (GCRA: a theoretical arrival time that a permit given back moves back
one slot), the chat's gap (a key that expires) and the pause Telegram asked for
(`retry_after`, a key that expires), so a 429 seen by one instance holds back all of
them. Keys carry the bot id in a hash tag: `harbin:send:{<bot id>}:...`.

If Redis cannot be answered, this process's own `Pacer` decides (with a warning) and
sending goes on; Redis is asked again after `RETRY_REDIS_SECONDS`. Every permit is also
counted by the local pacer, so a fallback starts from what this process just sent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from delivery.pacer import LOCAL_TOKEN, Pacer, Permit, Sleep

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 5.0
REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)

# KEYS: the window (sorted set of permits), the spacing's theoretical arrival time (GCRA,
# a burst of two at most), the pause, the chat's gap.
# ARGV: cap, window, spacing, the chat's gap (microseconds), the permit's token.
# Returns 0 when granted, else the microseconds to wait before asking again: positive for
# the bot's wait (the pause, the spacing, the window), negative for the chat's gap alone.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local spacing, chat_gap = tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = math.max(0, redis.call('PTTL', KEYS[3]) * 1000)
local tat = tonumber(redis.call('GET', KEYS[2])) or now
wait = math.max(wait, tat - spacing - now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= cap then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
end
if wait > 0 then return math.ceil(wait) end
local chat_wait = redis.call('PTTL', KEYS[4])
if chat_wait > 0 then return -chat_wait * 1000 end
local keep = math.ceil(2 * window / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('SET', KEYS[2], string.format('%d', math.max(tat, now) + spacing), 'PX', keep)
redis.call('SET', KEYS[4], '1', 'PX', math.max(1, math.floor(chat_gap / 1000)))
return 0
"""

# KEYS: the window, the spacing's arrival time. ARGV: spacing, the permit's token.
# The permit leaves the window and the spacing moves back one slot.
_GIVE_BACK = """
if redis.call('ZREM', KEYS[1], ARGV[2]) == 1 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local tat = tonumber(redis.call('GET', KEYS[2]))
    if tat then
        local ttl = math.max(1, redis.call('PTTL', KEYS[2]))
        local earlier = math.max(now, tat - tonumber(ARGV[1]))
        redis.call('SET', KEYS[2], string.format('%d', earlier), 'PX', ttl)
    end
end
return 0
"""

# KEYS: the pause. ARGV: milliseconds. A longer pause already set is kept.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
"""


def pacer_redis(url: str) -> Redis:
    """A client that gives up quickly: a slow Redis must not slow the sending."""
    return Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 1)
    )


class SharedPacer:
    """`SendPacer` over Redis for all instances sending with one bot token."""

    def __init__(
        self,
        redis: Redis,
        bot_id: int,
        local: Pacer,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.local = local
        self.sleep = sleep
        self.monotonic = monotonic
        prefix = f"harbin:send:{{{bot_id}}}"
        self._window_key = f"{prefix}:window"
        self._spacing_key = f"{prefix}:spacing"
        self._pause_key = f"{prefix}:pause"
        self._chat_prefix = f"{prefix}:chat:"
        window = local.window
        self._spacing_us = round(local.spacing * 1e6)
        self._args = (
            window.cap,
            round(window.window * 1e6),
            self._spacing_us,
            round(1e6 / local.per_chat_rate),
        )
        self._acquire = redis.register_script(_ACQUIRE)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._pause = redis.register_script(_PAUSE)
        self._instance = uuid.uuid4().hex[:12]
        self._tokens = itertools.count(1)
        self._turn = asyncio.Lock()  # this instance's senders ask Redis one at a time
        self._down_until = float("-inf")

    @property
    def redis_down(self) -> bool:
        return self.monotonic() < self._down_until

    async def acquire(self, chat_id: int) -> Permit:
        # The chat's own gap is waited for outside the turn, so it holds up no other chat:
        # first this process's last message to it, then (rarely) another instance's.
        await self.local.wait_for_chat(chat_id)
        while True:
            async with self._turn:
                outcome = await self._take(chat_id)
            if isinstance(outcome, Permit):
                return outcome
            await self.sleep(outcome)

    async def _take(self, chat_id: int) -> Permit | float:
        """A permit, or the seconds the chat's gap still holds (another instance's send)."""
        while not self.redis_down:
            token = f"{self._instance}:{next(self._tokens)}"
            try:
                wait_us = int(
                    await self._acquire(keys=self._keys(chat_id), args=[*self._args, token])
                )
            except REDIS_ERRORS as exc:
                self._fell_back(exc)
                break
            self._back_on_redis()
            if wait_us == 0:
                permit = Permit(chat_id, token)
                self.local.record(permit)
                return permit
            if wait_us < 0:
                return -wait_us / 1e6
            await self.sleep(wait_us / 1e6)  # the bot's own wait holds every sender here
        return await self.local.take(chat_id)

    def _keys(self, chat_id: int) -> list[str]:
        chat = f"{self._chat_prefix}{chat_id}"
        return [self._window_key, self._spacing_key, self._pause_key, chat]

    async def give_back(self, permit: Permit) -> None:
        await self.local.give_back(permit)
        if permit.token.startswith(LOCAL_TOKEN) or self.redis_down:
            return
        try:
            keys = [self._window_key, self._spacing_key]
            await self._give_back(keys=keys, args=[self._spacing_us, permit.token])
        except REDIS_ERRORS as exc:
            self._fell_back(exc)

    async def pause(self, seconds: float) -> None:
        await self.local.pause(seconds)
        if self.redis_down:
            return
        try:
            await self._pause(keys=[self._pause_key], args=[max(1, round(seconds * 1000))])
        except REDIS_ERRORS as exc:
            self._fell_back(exc)

    def _back_on_redis(self) -> None:
        if self._down_until > float("-inf"):
            log.warning("send limit: Redis answers again; pacing shared with other instances")
            self._down_until = float("-inf")

    def _fell_back(self, exc: BaseException) -> None:
        log.warning(
            "send limit: Redis did not answer (%s); pacing in this process alone for %.0f s",
            type(exc).__name__,
            RETRY_REDIS_SECONDS,
        )
        self._down_until = self.monotonic() + RETRY_REDIS_SECONDS
