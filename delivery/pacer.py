"""Pacing outgoing messages under Telegram's limits, in this process.

Telegram states its limits in messages: no more than about 30 a second for a bot and about
one a second in one chat (core.telegram.org/bots/faq, "My bot is hitting limits"). So
what counts is a message Telegram sent. A request it answered with 400, 403 or 429 sent
none: its permit is given back and used again. A 5xx or a network failure may have sent
one, so it keeps counting.

The bot's limit is kept twice: sends are spaced evenly (aiolimiter's leaky bucket), and a
sliding window holds at most `global_rate` counted permits in any second, as Telegram
states it, plus a guard of 50 ms for the network's jitter. A permit given back leaves the
window and lets the next send skip its spacing once. Each chat's next permit waits a whole
gap after its last. A pause (retry_after) holds back every permit. `SharedPacer`
(delivery/shared_pacer.py) keeps the same rules in Redis for all instances of a bot.

Time and sleep of the window and the pause are injectable, so tests need not wait.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

from delivery.messages import Outgoing
from delivery.ports import Blocked, Rejected, RetryAfter, Sender, SendError

Sleep = Callable[[float], Awaitable[None]]

# Telegram counts a message when it arrives, and arrivals wander by the network's jitter:
# the window is this much longer than a second, so a second's messages stay in one.
WINDOW_GUARD = 0.05
LOCAL_TOKEN = "local:"  # how a permit this process granted on its own begins
# Chats remembered at most; beyond this the idle ones (their gap passed) are forgotten.
MAX_CHATS = 10_000


@dataclass(frozen=True)
class Permit:
    """Leave to send one message to one chat; `token` identifies it to give it back."""

    chat_id: int
    token: str


class SendPacer(Protocol):
    async def acquire(self, chat_id: int) -> Permit:
        """Wait until a message to this chat may go; the permit counts from now."""
        ...

    async def give_back(self, permit: Permit) -> None:
        """Telegram sent nothing for this permit: it no longer counts."""
        ...

    async def pause(self, seconds: float) -> None:
        """Telegram said retry_after: no permit for anyone until it has passed."""
        ...


def sent_nothing(exc: BaseException) -> bool:
    """Telegram refused the request outright (429, 403, 400): no message was sent."""
    return isinstance(exc, RetryAfter | Blocked | Rejected)


class SlidingWindow:
    """At most `cap` entries in any `window` seconds; an entry can be taken out again."""

    def __init__(self, rate: float, guard: float = 0.0) -> None:
        # Below one a second, the window grows so that it still holds one whole message.
        second = max(1.0, 1.0 / rate)
        self.cap = max(1, int(rate * second + 1e-9))
        self.window = second + guard
        self._entries: dict[str, float] = {}  # token -> time, oldest first

    def wait(self, now: float) -> float:
        """Seconds until another entry fits (0 or less: it fits now)."""
        horizon = now - self.window
        while self._entries:
            token, at = next(iter(self._entries.items()))
            if at > horizon:
                break
            del self._entries[token]
        if len(self._entries) < self.cap:
            return 0.0
        return next(iter(self._entries.values())) + self.window - now

    def add(self, token: str, now: float) -> None:
        self._entries[token] = now

    def remove(self, token: str) -> bool:
        return self._entries.pop(token, None) is not None

    def __len__(self) -> int:
        return len(self._entries)


class Pacer:
    """`SendPacer` for one process.

    Sends are spaced by aiolimiter at the window's pace (a burst of two at most), and each
    chat's a gap apart. A permit given back becomes a credit: the next permit
    skips the spacing once, so the slot Telegram did not count is used again. The sliding
    window is the hard limit over both: never more than `global_rate` counted permits in
    any second.
    """

    MAX_CREDITS = 2  # slots given back and not used yet; more would only make a burst

    def __init__(
        self,
        global_rate: float,
        per_chat_rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.monotonic = monotonic
        self.sleep = sleep
        self.window = SlidingWindow(global_rate, WINDOW_GUARD)
        # Evenly spaced at the window's own pace, so the window itself rarely has to wait.
        self.spacing = self.window.window / self.window.cap
        self._spacing = AsyncLimiter(2, 2 * self.spacing)
        self._credits = 0
        self._paused_until = float("-inf")
        self.chat_gap = 1.0 / per_chat_rate
        self._chat_free_at: dict[int, float] = {}  # chat -> when its next permit may come
        self._turn = asyncio.Lock()  # first come, first served
        self._tokens = itertools.count(1)

    async def acquire(self, chat_id: int) -> Permit:
        # The chat's gap first: a permit taken before it would idle while counting.
        await self.wait_for_chat(chat_id)
        return await self.take(chat_id)

    async def take(self, chat_id: int) -> Permit:
        """The bot-wide part of `acquire`: the pause, the window and the spacing."""
        async with self._turn:
            await self.wait_for_window()
            if self._credits:
                self._credits -= 1
            else:
                await self._spacing.acquire()
                await self.wait_for_window()  # a pause may have begun meanwhile
            permit = Permit(chat_id, f"{LOCAL_TOKEN}{next(self._tokens)}")
            self.record(permit)
            return permit

    async def give_back(self, permit: Permit) -> None:
        if self.window.remove(permit.token):
            self._credits = min(self.MAX_CREDITS, self._credits + 1)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)

    async def wait_for_chat(self, chat_id: int) -> None:
        """Wait out the chat's gap since this process's last permit for it."""
        while (wait := self._chat_free_at.get(chat_id, 0.0) - self.monotonic()) > 0:
            await self.sleep(wait)

    async def wait_for_window(self) -> None:
        """Until the pause is over and the window has room."""
        while True:
            now = self.monotonic()
            wait = max(self._paused_until - now, self.window.wait(now))
            if wait <= 0:
                return
            await self.sleep(wait)

    def record(self, permit: Permit) -> None:
        """Count a permit (also one granted elsewhere, so a fallback starts from it)."""
        now = self.monotonic()
        self.window.add(permit.token, now)
        if len(self._chat_free_at) >= MAX_CHATS:  # forget the chats whose gap has passed
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}
        # From the grant, not from the wait before it: a permit that waited out a pause
        # still keeps the chat's next message a whole gap away.
        self._chat_free_at[permit.chat_id] = now + self.chat_gap


class PacedSender:
    """A `Sender` whose every call waits for a permit (for messages outside the outbox,
    such as a broadcast's progress, which Telegram counts like any other)."""

    def __init__(self, sender: Sender, pacer: SendPacer) -> None:
        self.sender = sender
        self.pacer = pacer

    async def send(self, chat_id: int, message: Outgoing) -> int:
        permit = await self.pacer.acquire(chat_id)
        try:
            return await self.sender.send(chat_id, message)
        except SendError as exc:
            await self._refused(permit, exc)
            raise

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        permit = await self.pacer.acquire(chat_id)
        try:
            await self.sender.edit(chat_id, message_id, message)
        except SendError as exc:
            await self._refused(permit, exc)
            raise

    async def _refused(self, permit: Permit, exc: SendError) -> None:
        if sent_nothing(exc):
            await self.pacer.give_back(permit)
        if isinstance(exc, RetryAfter):
            await self.pacer.pause(exc.seconds)
