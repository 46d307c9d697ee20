"""Reaching the Telegram Bot API: at start-up, wait for it with backoff; while polling, say
in one line per failure why it could not be reached.

A bot on a machine without Telegram (a firewall, no DNS, the network not up yet after a
reboot) should say so plainly and keep trying, not end in a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from aiohttp import ClientConnectorError

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0

# Failures worth waiting out: the network, Telegram's servers, its flood control.
TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


class TokenRefused(Exception):
    """Telegram answered that the token is not a bot's: retrying cannot help."""


def describe_failure(exc: BaseException, token: str | None = None) -> str:
    """Why a request did not get through, in a few words ("Connection refused")."""
    cause = exc.__cause__
    if isinstance(cause, ClientConnectorError):
        os_error = cause.os_error
        if isinstance(os_error, socket.gaierror):
            reason = os_error.strerror or str(os_error)  # DNS: name not known, no network
        elif os_error.errno and os_error.errno > 0:
            reason = os.strerror(os_error.errno)
        else:
            reason = str(os_error) or type(os_error).__name__
    elif isinstance(exc, TelegramNetworkError):
        reason = exc.message.removeprefix("HTTP Client says - ")
    elif isinstance(exc, TelegramRetryAfter):
        reason = f"flood control, asked to wait {exc.retry_after} s"
    elif isinstance(exc, TelegramServerError):
        reason = f"server error: {exc.message}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    # aiohttp's messages may quote the request's address, which carries the token.
    return reason.replace(token, "<token>") if token else reason


async def wait_for_bot_api(
    bot: Bot,
    api_base: str,
    *,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_delay: float = MAX_RETRY_SECONDS,
) -> User:
    """getMe until Telegram answers, one warning line per failed attempt, doubling the wait.

    Raises TokenRefused at once when Telegram says the token is wrong.
    """
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise TokenRefused(
                f"Telegram at {api_base} refused BOT_TOKEN ({exc.message}): "
                "check the token @BotFather gave you"
            ) from None
        except TRANSIENT as exc:
            wait = max(delay, exc.retry_after) if isinstance(exc, TelegramRetryAfter) else delay
            log.warning(
                "cannot reach the Telegram Bot API at %s: %s; retrying in %g s (attempt %d)",
                api_base,
                describe_failure(exc, bot.token),
                wait,
                attempt,
            )
            await asyncio.sleep(wait)
            delay = min(delay * 2, max_delay)


class OneLinePollingFailures(logging.Filter):
    """aiogram's polling logs each failed getUpdates as an error plus a "Sleep for..." warning;
    this folds the pair into one line that names the address and the reason.

    Installed on the `aiogram.dispatcher` logger, which logs the pair back to back.
    """

    def __init__(self, api_base: str, token: str) -> None:
        super().__init__()
        self.api_base = api_base
        self.token = token
        self._failure: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        if record.msg.startswith("Failed to fetch updates") and isinstance(record.args, tuple):
            failure = record.args[-1] if record.args else None
            if isinstance(failure, BaseException):
                self._failure = failure
                return False  # said together with the next line, the retry's delay
            return True
        if record.msg.startswith("Sleep for") and self._failure is not None:
            failure, self._failure = self._failure, None
            delay = record.args[0] if isinstance(record.args, tuple) and record.args else 0
            reason = describe_failure(failure, self.token)
            if isinstance(failure, TRANSIENT):
                record.msg = (
                    "cannot reach the Telegram Bot API at %s (getUpdates): %s; retrying in %.1f s"
                )
                record.levelno, record.levelname = logging.WARNING, "WARNING"
            else:  # a conflict with another instance, a refused token: worth an error
                record.msg = "getUpdates at %s failed: %s; retrying in %.1f s"
                record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.args = (self.api_base, reason, delay)
        return True
