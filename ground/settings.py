"""Settings from the environment or a `.env` file (pydantic-settings).

A missing or malformed setting must stop start-up with one clear line naming the
variable, so `load_settings` turns pydantic's validation error into `SettingsError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
SUPPORTED_LOCALES = ("ru", "en", "zh")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # SecretStr keeps the token out of reprs and logs.
    bot_token: SecretStr | None = None
    telegram_api_base: str = TELEGRAM_API_DEFAULT
    database_url: str = "sqlite+aiosqlite:///data/club.sqlite3"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: Literal["ru", "en", "zh"] = "ru"
    club_name: str = "Любимый Харбин"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str = "http://127.0.0.1:8080"
    # A feed anyone may subscribe to; it never carries meeting links.
    public_feed: bool = False
    media_dir: Path = Path("data/media")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Outgoing pace per bot token (Telegram: ~30 messages/s overall, 1/s per chat): at
    # most SEND_RATE_GLOBAL messages in any 1.05 s (a guard for the network's jitter), all
    # instances together when they share REDIS_URL, each process alone without it.
    send_rate_global: float = Field(default=30.0, gt=0)
    send_rate_per_chat: float = Field(default=1.0, gt=0)
    # Messages in flight at once per process, never two to one chat: 8 fill the rate at
    # round trips up to ~250 ms. A killed process may repeat each of them once. At most 16
    # (each holds a database connection while in flight). SEND_WORKERS: its former name.
    send_in_flight: int = Field(
        default=8, ge=1, le=16, validation_alias=AliasChoices("send_in_flight", "send_workers")
    )
    # The day of the month (and UTC hour) when organisers get next month's plan to confirm.
    plan_day: int = Field(default=20, ge=1, le=28)
    plan_hour_utc: int = Field(default=9, ge=0, le=23)
    # Optional Zoom (Server-to-Server OAuth app); all three set -> meetings get Zoom links.
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_api_base: str = "https://api.zoom.us/v2"
    zoom_oauth_base: str = "https://zoom.us"
    # Incoming flood control per user: sustained rate and burst size.
    throttle_rate: float = Field(default=3.0, gt=0)
    throttle_burst: int = Field(default=10, ge=1)
    # polling: one process long-polls. webhook: Telegram POSTs updates to WEBHOOK_URL (the
    # https address the reverse proxy forwards to WEB_HOST:WEB_PORT); needed by several
    # instances, since only one process may long-poll.
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = Field(default=None, validate_default=True)
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    # FSM state shared by instances (aiogram's RedisStorage); empty keeps it in memory.
    redis_url: str | None = None
    # Members and roles kept in memory between updates, at most this long; 0 turns it off.
    # Commits invalidate it at once (over Redis for other instances); see db/member_cache.py.
    member_cache_seconds: float = Field(default=300.0, ge=0)
    # An outbox claim is a lease: a dead instance's rows go to another one after this.
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    # The club's Telegram channel or group (numeric id, e.g. -1001234567890), where the bot,
    # made an administrator there, posts announcements, programme changes and the memoir of
    # the month. Empty: no posts.
    club_chat_id: int | None = None
    # The zones whose clock a post in the club chat shows (a chat has no zone of its own).
    club_zones: Annotated[tuple[str, ...], NoDecode] = (
        "Europe/Moscow",
        "Asia/Shanghai",
        "Australia/Sydney",
    )

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if not isinstance(value, str):
            raise ValueError("expected text")
        value = value.strip()
        head, sep, tail = value.partition(":")
        if not (sep and head.isdigit() and len(tail) >= 10):
            raise ValueError("expected the form 123456789:AA... as given by @BotFather")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a Telegram user id (digits only)")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("club_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.lstrip("-").isdigit():
                raise ValueError("expected the chat's numeric id, e.g. -1001234567890")
            return int(value)
        return value

    @field_validator("club_zones", mode="before")
    @classmethod
    def _zones(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        if isinstance(value, list | tuple):
            for zone in value:
                try:
                    ZoneInfo(str(zone))
                except (ZoneInfoNotFoundError, ValueError):
                    raise ValueError(f"{zone!r} is not an IANA time zone") from None
            if not value:
                raise ValueError("name at least one time zone, e.g. Europe/Moscow")
            return tuple(str(z) for z in value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_locale", mode="before")
    @classmethod
    def _lower_locale(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("telegram_api_base", "public_base_url", "zoom_api_base", "zoom_oauth_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(
                "expected a SQLAlchemy URL such as sqlite+aiosqlite:///data/club.sqlite3"
            )
        return value

    @field_validator("bot_mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = (value or "").strip() or None
        if info.data.get("bot_mode") != "webhook":
            return value
        if value is None:
            raise ValueError("required when BOT_MODE=webhook (the public https address)")
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("expected https://host/path with no query")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip() or None
        if info.data.get("bot_mode") != "webhook":
            return value
        if value is None:
            raise ValueError("required when BOT_MODE=webhook")
        # Telegram's own rule for secret_token: 1-256 of A-Z a-z 0-9 _ -.
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("expected 16-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db")
        return value

    @property
    def webhook_mode(self) -> bool:
        return self.bot_mode == "webhook"

    @property
    def has_token(self) -> bool:
        return self.bot_token is not None

    def token(self) -> str:
        if self.bot_token is None:
            raise SettingsError("Setting BOT_TOKEN is missing")
        return self.bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Setting {name} is invalid: {message}") from None
