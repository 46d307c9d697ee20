"""Who is using the Mini App: Telegram's signed initData once, then a short session cookie.

Telegram opens the Mini App with `initData`, a query string signed with a key derived from
the bot's token. The page posts it to `/app/auth`; aiogram's own helper checks the
signature, and we check its age (a day at most: an old copy found in a log or a history
is worth nothing). The answer is a cookie: HttpOnly (scripts cannot read it),
SameSite=Strict (other sites' pages cannot send it), Secure on https, valid for an hour,
signed with a key derived from the bot's token; it names the member and their Telegram id,
so a member id given again to someone else after a deletion does not open their pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data

COOKIE = "club_session"
SESSION_SECONDS = 3600
INIT_DATA_MAX_AGE = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)
MAX_INIT_DATA_BYTES = 8192


class NotAuthentic(ValueError):
    """Forged, malformed, or older than a day."""


def check_init_data(token: str, raw: str, now: datetime) -> WebAppInitData:
    """The signed data if Telegram signed it for this bot within the last day."""
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except (ValueError, TypeError) as exc:
        raise NotAuthentic("signature") from exc
    if data.user is None:
        raise NotAuthentic("no user")
    signed_at = data.auth_date
    if signed_at.tzinfo is None:
        raise NotAuthentic("naive date")
    if now - signed_at > INIT_DATA_MAX_AGE or signed_at - now > CLOCK_SKEW:
        raise NotAuthentic("age")
    return data


@dataclass(frozen=True)
class Session:
    member_id: int
    telegram_id: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and reads session cookies. Without a bot token (never in production) the key
    is random: sessions then end with the process."""

    def __init__(self, bot_token: str | None) -> None:
        seed = bot_token.encode() if bot_token else secrets.token_bytes(32)
        self._key = hmac.new(b"harbin-club web session", seed, hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, session: Session, now: datetime) -> str:
        expires = int(now.timestamp()) + SESSION_SECONDS
        payload = _b64(json.dumps([session.member_id, session.telegram_id, expires]).encode())
        return f"{payload}.{self._sign(payload)}"

    def read(self, value: str | None, now: datetime) -> Session | None:
        if not value or value.count(".") != 1 or len(value) > 512:
            return None
        payload, signature = value.split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            member_id, telegram_id, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not all(isinstance(v, int) for v in (member_id, telegram_id, expires)):
            return None
        if expires <= now.timestamp():
            return None
        return Session(member_id, telegram_id)
