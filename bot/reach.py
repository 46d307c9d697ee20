"""Reaching the Telegram Bot API and the database server: at start-up, wait for them with
backoff; while polling, say in one line per failure why Telegram could not be reached.

A bot on a machine without Telegram (a firewall, no DNS, the network not up yet after a
reboot), or started before its PostgreSQL, should say so plainly and keep trying, not end
in a traceback.
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
from sqlalchemy import make_url

from db.engine import create_engine

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0

# Failures worth waiting out: the network, Telegram's servers, its flood control.
TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


class StartupRefused(Exception):
    """Telegram or the database answered, and said no (a wrong token, a wrong password):
    retrying cannot help. The message is one line for the person starting the bot."""


def describe_failure(exc: BaseException, token: str | None = None) -> str:
    """Why a request did not get through, in a few words ("Connection refused")."""
    cause = exc.__cause__
    if isinstance(cause, ClientConnectorError):
        reason = _os_reason(cause.os_error)  # refused, unknown host (DNS), unreachable
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

    Raises StartupRefused at once when Telegram says the token is wrong.
    """
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise StartupRefused(
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


async def wait_for_database(
    url: str,
    *,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_delay: float = MAX_RETRY_SECONDS,
) -> None:
    """Connect until a database server answers, one warning line per failed attempt.

    SQLite is a file here, nothing to wait for. Only failures to reach the server are
    waited out (refused, unknown host, timeout, "starting up"); anything else, such as a
    wrong password or a missing database, raises StartupRefused.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    where = f"{parsed.get_backend_name()}://{parsed.host}:{parsed.port or ''}/{parsed.database}"
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        engine = create_engine(url)
        try:
            async with engine.connect():
                return
        except (OSError, TimeoutError) as exc:
            reason = _os_reason(exc)
        except Exception as exc:
            chain = _causes(exc)
            said = str(chain[-1]).splitlines()[0] if str(chain[-1]) else type(chain[-1]).__name__
            if not _DATABASE_NOT_READY & {type(e).__name__ for e in chain}:
                raise StartupRefused(f"cannot use the database at {where}: {said}") from None
            reason = said
        finally:
            await engine.dispose()
        log.warning(
            "cannot reach the database at %s: %s; retrying in %g s (attempt %d)",
            where,
            reason,
            delay,
            attempt,
        )
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


# asyncpg's answers while PostgreSQL starts or is full (matched by name: no driver import).
_DATABASE_NOT_READY = frozenset({"CannotConnectNowError", "TooManyConnectionsError"})


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (SQLAlchemy's `orig`, then `__cause__`), outermost
    first: the innermost says it plainest (`role "club" does not exist`)."""
    chain = [exc]
    while len(chain) < 10:
        inner = getattr(chain[-1], "orig", None) or chain[-1].__cause__
        if not isinstance(inner, BaseException) or inner in chain:
            break
        chain.append(inner)
    return chain


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    if isinstance(exc, OSError) and exc.errno and exc.errno > 0:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


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
