"""Keep members' feed tokens out of the web server's log lines.

A private feed's address is its only key, and it travels in request lines: aiohttp quotes
the first 100 bytes of a request it cannot parse (a line over 8 KB, say) in an ERROR with a
traceback, and a database error may quote a token among its parameters. A filter on each
of the web server's loggers rewrites every record before any handler sees it:
- the message is formatted and redacted, arguments included: whatever follows `/feed/`
  (except the public feed) and any token-shaped word become `<redacted>`;
- a traceback is formatted and redacted the same way;
- a request aiohttp could not parse becomes one WARNING line, without a traceback: it is
  the client's mistake (or a scanner), not ours.
"""

from __future__ import annotations

import logging
import re
import traceback

from aiohttp.http_exceptions import HttpProcessingError

REDACTED = "<redacted>"
# aiohttp's own loggers that see requests, and ours on the web server's path.
LOGGERS = (
    "aiohttp.server",
    "aiohttp.access",
    "aiohttp.web",
    "aiohttp.internal",
    "web",
    "web.app",
    "web.feeds",
    "web.health",
    "bot.webhook",
    "scheduling.feeds.window",
)

_TOKEN_CHARS = "A-Za-z0-9_%-"  # %: a percent-encoded token is still one
# Whatever names a feed after /feed/ (also percent-encoded), but the public feed.
_FEED_NAME = re.compile(
    rf"((?:/|%2[fF])feed(?:/|%2[fF]))(?!public(?:\.ics)?(?![{_TOKEN_CHARS}]))[{_TOKEN_CHARS}]+"
)
# A word of 32-64 token characters with both cases, as secrets.token_urlsafe makes them;
# snake_case names and hex digests do not match.
_TOKEN_WORD = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])"
    r"[A-Za-z0-9_-]{32,64}(?![A-Za-z0-9_-])"
)
_WHITESPACE = re.compile(r"\s+")


def redact(text: str) -> str:
    return _TOKEN_WORD.sub(REDACTED, _FEED_NAME.sub(r"\1" + REDACTED, text))


class RedactFeedTokens(logging.Filter):
    """Redacts one logger's records in place; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(exc, HttpProcessingError):
            _as_bad_request(record, exc)
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _as_bad_request(record: logging.LogRecord, exc: HttpProcessingError) -> None:
    """aiohttp's "Error handling request from %s" about a request it could not parse."""
    remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
    reason = _WHITESPACE.sub(" ", redact(str(exc.message))).strip()
    record.msg = redact(f"malformed HTTP request from {remote}: {exc.code} {type(exc).__name__}")
    if reason:
        record.msg += f": {reason[:200]}"
    record.args = None
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    record.levelno = min(record.levelno, logging.WARNING)
    record.levelname = logging.getLevelName(record.levelno)


_FILTER = RedactFeedTokens()


def install_log_redaction() -> None:
    """Put the filter on the web server's loggers (again is harmless)."""
    names = set(LOGGERS)
    names.update(n for n in logging.root.manager.loggerDict if n.startswith("web."))
    for name in sorted(names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
