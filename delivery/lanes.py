"""Keeping several messages in flight, never two to one chat, each chat's in order.

With one sender, each message waits for the answer to the one before: at an 80 ms round
trip that is ~11 messages a second, whatever the limit. Here `width` lanes send side by
side, so the limit decides the pace, not the latency. A lane takes a chat and sends its
waiting rows one after another, oldest first; rows claimed later for a chat that a lane is
serving join that lane's queue. More rows are claimed while the lanes still have work
(`low_water` chats waiting), so the pipeline does not run dry between claims.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

# Claims more rows; returns (row id, chat id) pairs oldest first, none when nothing is due.
Refill = Callable[[], Awaitable[Sequence[tuple[int, int]]]]
# Sends and settles one row; must not raise for a row's own failure.
Deliver = Callable[[int], Awaitable[None]]


class Lanes:
    def __init__(self, width: int, refill: Refill, deliver: Deliver, *, low_water: int) -> None:
        self.width = max(1, width)
        self.low_water = low_water
        self._refill = refill
        self._deliver = deliver
        self._waiting: dict[int, deque[int]] = {}  # chat -> its rows not yet sent
        self._ready: deque[int] = deque()  # chats with rows and no lane serving them
        self._exhausted = False
        self._refilling: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def run(self) -> None:
        """Until nothing more is claimed and every claimed row has been delivered.

        A claim that fails stops further claims; the rows already claimed still go out,
        then the claim's error is raised.
        """
        try:
            async with asyncio.TaskGroup() as lanes:
                for _ in range(self.width):
                    lanes.create_task(self._lane())
        finally:
            if self._refilling is not None:  # only after a lane failed: let it end quietly
                await asyncio.gather(self._refilling, return_exceptions=True)
        if self._error is not None:
            raise self._error

    def add(self, rows: Sequence[tuple[int, int]]) -> None:
        for row_id, chat_id in rows:
            queue = self._waiting.get(chat_id)
            if queue is None:
                self._waiting[chat_id] = deque([row_id])
                self._ready.append(chat_id)
            else:  # a lane is serving the chat, or it is ready already: keep the order
                queue.append(row_id)

    async def _lane(self) -> None:
        while (chat_id := await self._next_chat()) is not None:
            queue = self._waiting[chat_id]
            while queue:
                await self._deliver(queue.popleft())
            del self._waiting[chat_id]  # no await since the check: nothing slipped in

    async def _next_chat(self) -> int | None:
        while True:
            running_low = len(self._ready) < self.low_water
            if running_low and not self._exhausted and self._refilling is None:
                self._refilling = asyncio.create_task(self._fill())
            if self._ready:
                return self._ready.popleft()
            if self._refilling is None:
                return None
            await asyncio.shield(self._refilling)

    async def _fill(self) -> None:
        try:
            rows = await self._refill()
        except Exception as exc:
            self._error, self._exhausted = exc, True
            return
        finally:
            self._refilling = None
        if rows:
            self.add(rows)
        else:
            self._exhausted = True
