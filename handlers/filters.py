"""Async filters. aiogram runs a synchronous filter (a bare State, an `F.` expression) in a
worker thread; these are plain coroutines, so matching an update stays on the event loop."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message

from handlers.files import incoming_file


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


class NotACommand(Filter):
    """Anything but a command: commands keep working in the middle of a dialogue."""

    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


class HasFile(Filter):
    """A photo, voice note, audio or document: something the archive can keep."""

    async def __call__(self, message: Message) -> bool:
        return incoming_file(message) is not None
