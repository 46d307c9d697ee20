"""What delivery needs from a messenger, and how a messenger says a send went wrong.

The Telegram implementation is `handlers.outbound.TelegramSender`; tests may use their own.
"""

from __future__ import annotations

from typing import Protocol

from delivery.messages import Outgoing


class SendError(Exception):
    """A send that did not reach the person; `reason` is for the logs and the outbox row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfter(SendError):
    """The messenger asks everyone sending with this bot to wait `seconds`."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.seconds = seconds


class Blocked(SendError):
    """The person blocked the bot or left: stop writing to them."""


class Rejected(SendError):
    """This message can never be sent as it is (bad request): drop it, go on."""


class Transient(SendError):
    """A server or network failure: try this message again later."""


class Sender(Protocol):
    async def send(self, chat_id: int, message: Outgoing) -> int:
        """Send it; returns the messenger's message id. Raises a `SendError`."""
        ...

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        """Replace the text (and buttons) of a message sent earlier. Raises a `SendError`."""
        ...
