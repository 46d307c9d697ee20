"""Pacing for outgoing messages: a global rate and a minimum gap per chat.

Telegram allows about 30 messages a second overall and one a second per chat; both
figures come from settings so tests and benchmarks can scale them. Time and sleep are
injectable, so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    def __init__(
        self,
        global_rate: float,
        per_chat_rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / global_rate
        self.chat_interval = 1.0 / per_chat_rate
        self.monotonic = monotonic
        self.sleep = sleep
        self._next_global = 0.0
        self._next_by_chat: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait_turn(self, chat_id: int) -> None:
        """Reserve the next send slot for this chat and sleep until it comes."""
        async with self._lock:
            now = self.monotonic()
            start = max(now, self._next_global, self._next_by_chat.get(chat_id, 0.0))
            self._next_global = start + self.interval
            self._next_by_chat[chat_id] = start + self.chat_interval
            if len(self._next_by_chat) > 10_000:
                # Forget chats whose gap has passed, so memory stays bounded.
                self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > now}
        delay = start - now
        if delay > 0:
            await self.sleep(delay)

    async def pause(self, seconds: float) -> None:
        """Telegram said 429: hold every sender back, not just this one."""
        async with self._lock:
            self._next_global = max(self._next_global, self.monotonic() + seconds)
        await self.sleep(seconds)
