"""Optional Zoom integration (Server-to-Server OAuth): a confirmed meeting gets a Zoom
meeting and its join link; rescheduling moves it; cancelling deletes it.

Off unless ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are all set. A Zoom
failure never undoes the club meeting: the hooks report FAILED and the organiser sets
the link by hand. Secrets and tokens never reach the logs.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.zoom.us/v2"
DEFAULT_OAUTH_BASE = "https://zoom.us"
# Fetch a new token this long before the old one expires, so a request never races expiry.
TOKEN_MARGIN_SECONDS = 60.0
SCHEDULED_MEETING = 2  # Zoom's meeting type for a one-off meeting with a fixed time
DEFAULT_TOPIC = "Любимый Харбин"


def _setting(settings: object, name: str) -> str | None:
    """Read a setting that may not exist yet; SecretStr or str, blank means unset."""
    value = getattr(settings, name, None)
    if value is not None and hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


@dataclass(frozen=True)
class ZoomConfig:
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)  # kept out of reprs and logs
    api_base: str = DEFAULT_API_BASE
    oauth_base: str = DEFAULT_OAUTH_BASE
    timeout_seconds: float = 15.0

    @classmethod
    def from_settings(cls, settings: object) -> ZoomConfig | None:
        """None unless all three credentials are set: then nothing Zoom-related happens."""
        account = _setting(settings, "zoom_account_id")
        client = _setting(settings, "zoom_client_id")
        secret = _setting(settings, "zoom_client_secret")
        if not (account and client and secret):
            return None
        return cls(
            account_id=account,
            client_id=client,
            client_secret=secret,
            api_base=(_setting(settings, "zoom_api_base") or DEFAULT_API_BASE).rstrip("/"),
            oauth_base=(_setting(settings, "zoom_oauth_base") or DEFAULT_OAUTH_BASE).rstrip("/"),
        )


class ZoomError(Exception):
    """Zoom refused or could not be reached; the text carries no secrets."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ZoomMeeting:
    id: str
    join_url: str


def zoom_time(dt: datetime) -> str:
    """Zoom's UTC form: 2027-01-16T09:00:00Z."""
    if dt.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomClient:
    """The few Zoom calls the club needs, with the access token cached until near expiry."""

    def __init__(self, config: ZoomConfig, *, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    async def _fetch_token(self, http: aiohttp.ClientSession) -> str:
        url = f"{self.config.oauth_base}/oauth/token"
        params = {"grant_type": "account_credentials", "account_id": self.config.account_id}
        # HTTP Basic by hand: aiohttp's BasicAuth is deprecated in 3.14, its successor is new.
        pair = f"{self.config.client_id}:{self.config.client_secret}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        async with http.post(url, params=params, headers=headers) as response:
            body = await _json(response)
            if response.status != 200 or not isinstance(body.get("access_token"), str):
                raise ZoomError(
                    f"token request failed: {_describe(response, body)}", response.status
                )
        self._token = body["access_token"]
        self._token_expires = self._clock() + float(body.get("expires_in", 3600))
        return self._token

    async def _bearer(self, http: aiohttp.ClientSession) -> str:
        if self._token is None or self._clock() >= self._token_expires - TOKEN_MARGIN_SECONDS:
            return await self._fetch_token(http)
        return self._token

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                for attempt in range(2):
                    headers = {"Authorization": f"Bearer {await self._bearer(http)}"}
                    url = f"{self.config.api_base}{path}"
                    async with http.request(method, url, json=payload, headers=headers) as response:
                        body = await _json(response)
                        # A token revoked early (app re-activated): fetch a new one once.
                        if response.status == 401 and attempt == 0:
                            self._token = None
                            continue
                        return response.status, body
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ZoomError(f"{method} {path}: {type(exc).__name__}") from None
        raise ZoomError(f"{method} {path}: unauthorised", 401)

    async def create_meeting(
        self, topic: str, starts_at: datetime, duration_min: int
    ) -> ZoomMeeting:
        status, body = await self._call(
            "POST",
            "/users/me/meetings",
            {
                "topic": topic[:200],  # Zoom caps topics at 200 characters
                "type": SCHEDULED_MEETING,
                "start_time": zoom_time(starts_at),
                "duration": duration_min,
                "timezone": "UTC",
            },
        )
        if status not in (200, 201) or "id" not in body or not body.get("join_url"):
            raise ZoomError(f"create failed: {status} {_zoom_reason(body)}", status)
        return ZoomMeeting(id=str(body["id"]), join_url=str(body["join_url"]))

    async def update_meeting(self, meeting_id: str, starts_at: datetime, duration_min: int) -> None:
        fields = {"start_time": zoom_time(starts_at), "duration": duration_min, "timezone": "UTC"}
        await self._patch(meeting_id, fields, "update")

    async def update_topic(self, meeting_id: str, topic: str) -> None:
        await self._patch(meeting_id, {"topic": topic[:200]}, "topic update")

    async def _patch(self, meeting_id: str, fields: dict[str, Any], what: str) -> None:
        status, body = await self._call("PATCH", f"/meetings/{meeting_id}", fields)
        if status not in (200, 204):
            raise ZoomError(f"{what} failed: {status} {_zoom_reason(body)}", status)

    async def delete_meeting(self, meeting_id: str) -> None:
        status, body = await self._call("DELETE", f"/meetings/{meeting_id}")
        # 404: already deleted in Zoom, which is what we wanted.
        if status not in (200, 204, 404):
            raise ZoomError(f"delete failed: {status} {_zoom_reason(body)}", status)


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """Zoom answers JSON or nothing (204); anything else is read as empty."""
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _zoom_reason(body: dict[str, Any]) -> str:
    return f"code={body.get('code')} {str(body.get('message', ''))[:200]}".strip()


def _describe(response: aiohttp.ClientResponse, body: dict[str, Any]) -> str:
    # OAuth errors use `reason`/`error`; never echo the request (it carries the secret).
    reason = body.get("reason") or body.get("error") or ""
    return f"{response.status} {str(reason)[:200]}".strip()


# --- hooks called by the organisers' handlers -------------------------------------------


class ZoomOutcome(StrEnum):
    OFF = "off"  # not configured, or nothing to do
    DONE = "done"
    FAILED = "failed"


_clients: dict[ZoomConfig, ZoomClient] = {}


def client_for(settings: object) -> ZoomClient | None:
    """One client per configuration, so its token is reused across updates."""
    config = ZoomConfig.from_settings(settings)
    if config is None:
        return None
    if config not in _clients:
        _clients[config] = ZoomClient(config)
    return _clients[config]


def _topic(meeting: Meeting, settings: object) -> str:
    return meeting.theme or getattr(settings, "club_name", None) or DEFAULT_TOPIC


async def on_meeting_confirmed(
    session: AsyncSession,
    meeting: Meeting,
    settings: object,
    *,
    now: datetime,
    client: ZoomClient | None = None,
) -> ZoomOutcome:
    """Create the Zoom meeting and fill in the link (unless one was set by hand)."""
    client = client or client_for(settings)
    if client is None or meeting.zoom_meeting_id:
        return ZoomOutcome.OFF
    try:
        created = await client.create_meeting(
            _topic(meeting, settings), meeting.starts_at, meeting.duration_min
        )
    except ZoomError as exc:
        log.warning("Zoom: could not create a meeting for meeting %s: %s", meeting.id, exc)
        return ZoomOutcome.FAILED
    meeting.zoom_meeting_id = created.id
    if not meeting.link:
        meeting.link = created.join_url
    meeting.updated_at = now
    await session.flush()
    log.info("Zoom: meeting %s created as Zoom meeting %s", meeting.id, created.id)
    return ZoomOutcome.DONE


async def on_meeting_rescheduled(
    session: AsyncSession,
    meeting: Meeting,
    settings: object,
    *,
    now: datetime,
    client: ZoomClient | None = None,
) -> ZoomOutcome:
    """Move the Zoom meeting; a meeting Zoom never got (earlier failure) is created now."""
    client = client or client_for(settings)
    if client is None:
        return ZoomOutcome.OFF
    if not meeting.zoom_meeting_id:
        if meeting.link:  # the organiser set a link by hand: leave it alone
            return ZoomOutcome.OFF
        return await on_meeting_confirmed(session, meeting, settings, now=now, client=client)
    moving = client.update_meeting(meeting.zoom_meeting_id, meeting.starts_at, meeting.duration_min)
    return await _attempt(meeting, "move the Zoom meeting", moving)


async def on_theme_changed(
    meeting: Meeting, settings: object, *, client: ZoomClient | None = None
) -> ZoomOutcome:
    """Give the Zoom meeting the new theme as its topic, as members see it in Zoom."""
    client = client or client_for(settings)
    if client is None or not meeting.zoom_meeting_id:
        return ZoomOutcome.OFF
    retitling = client.update_topic(meeting.zoom_meeting_id, _topic(meeting, settings))
    return await _attempt(meeting, "set the topic", retitling)


async def on_meeting_cancelled(
    meeting: Meeting, settings: object, *, client: ZoomClient | None = None
) -> ZoomOutcome:
    """Delete the Zoom meeting; the id stays on the row as a record."""
    client = client or client_for(settings)
    if client is None or not meeting.zoom_meeting_id:
        return ZoomOutcome.OFF
    deleting = client.delete_meeting(meeting.zoom_meeting_id)
    return await _attempt(meeting, "delete the Zoom meeting", deleting)


async def _attempt(meeting: Meeting, what: str, call: Awaitable[None]) -> ZoomOutcome:
    """Await one Zoom call for a meeting: a refusal is logged and reported, never raised."""
    try:
        await call
    except ZoomError as exc:
        log.warning("Zoom: could not %s for meeting %s: %s", what, meeting.id, exc)
        return ZoomOutcome.FAILED
    return ZoomOutcome.DONE
