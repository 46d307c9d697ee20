"""Async filters. aiogram runs a synchronous filter (a bare State, an `F.` expression) in a
worker thread; these are plain coroutines, so matching an update stays on the event loop."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message


class TypedAnswer(Filter):
    """A text message that is not a command: an answer to the current question."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not message.text.startswith("/")  # type: ignore[union-attr]


class SharedLocation(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.location is not None


class Forwarded(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.forward_origin is not None
