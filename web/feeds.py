"""Calendar feeds over HTTP: `/feed/<token>.ics` (a member's private feed) and
`/feed/public.ics` (only with PUBLIC_FEED; never carries meeting links).

The ETag comes from cheap meeting "stamps" (id, sequence, status, times, updated_at), so
a 304 never renders. Token owners and stamps are kept in memory until any ORM write in
this process (`scheduling.feeds.store.DATA_VERSION`), the next moment a meeting leaves
the window, or a short TTL; rendered bodies are cached by ETag, which names kind, locale,
translations and data version. The calendar itself is written by scheduling/feeds.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from ground.context import AppContext
from scheduling.feeds.calendar import FeedKind, render_calendar
from scheduling.feeds.store import (
    DATA_VERSION,
    FeedMember,
    feed_stamps,
    meetings_by_ids,
    member_by_token,
    well_formed,
)
from scheduling.feeds.validators import (
    MeetingStamp,
    feed_etag,
    feed_last_modified,
    strings_digest,
)
from scheduling.feeds.window import next_departure

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_NAME = "public"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CACHE_ENTRIES = 64  # rendered bodies (one per locale and kind per data version)
MEMBER_CACHE_ENTRIES = 10_000
# Backstop for writes this process cannot see (another process on the same database).
CACHE_TTL = 30.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Validators:
    etag: str
    last_modified: datetime


@dataclass
class _Snapshot:
    """The meeting stamps as of one data version, valid until the window next moves."""

    version: int
    stamps: list[MeetingStamp]
    dropped: list[datetime]
    valid_until: datetime  # clock time at which a meeting leaves the window
    expires: float  # monotonic time: the backstop against writes from other processes
    validators: dict[tuple[str, str, datetime], _Validators]


class FeedService:
    """Feed bodies and validators, with in-memory caches keyed on `DATA_VERSION`.

    Hot path (a calendar app polling with If-None-Match): token and stamps come from
    memory, the ETag is memoised, so a 304 costs no query and no rendering.
    """

    def __init__(self, ctx: AppContext, *, public_feed: bool, ttl: float = CACHE_TTL) -> None:
        self.ctx = ctx
        self.public_feed = public_feed
        self.ttl = ttl
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._members: dict[bytes, tuple[FeedMember, int, float]] = {}
        self._snapshot: _Snapshot | None = None
        self._digests: dict[str, str] = {}
        self.renders = 0  # how many times a body was rendered (tests and the bench read it)
        self.queries = 0  # how many database round trips the feed made
        DATA_VERSION.install()

    def translate(self, locale: str) -> Callable[[str], str]:
        i18n = self.ctx.i18n
        return lambda message: i18n.gettext(message, locale=locale)

    def digest(self, locale: str) -> str:
        if locale not in self._digests:
            self._digests[locale] = strings_digest(self.translate(locale))
        return self._digests[locale]

    async def _owner(self, token: str) -> FeedMember | None:
        # Keyed by a digest: the raw token is never a dict key or in a log.
        key = hashlib.sha256(token.encode()).digest()
        version = DATA_VERSION.value
        hit = self._members.get(key)
        if hit is not None and hit[1] == version and hit[2] > time.monotonic():
            return hit[0]
        async with self.ctx.session_factory() as session:
            owner = await member_by_token(session, token)
        self.queries += 1
        if owner is not None and DATA_VERSION.value == version:
            if len(self._members) >= MEMBER_CACHE_ENTRIES:
                self._members.clear()
            self._members[key] = (owner, version, time.monotonic() + self.ttl)
        return owner

    async def _stamps(self, now: datetime) -> _Snapshot:
        snap = self._snapshot
        version = DATA_VERSION.value
        if (
            snap is not None
            and snap.version == version
            and now < snap.valid_until
            and snap.expires > time.monotonic()
        ):
            return snap
        async with self.ctx.session_factory() as session:
            stamps, dropped = await feed_stamps(session, now)
        self.queries += 1
        leaving = [t for t in (next_departure(s) for s in stamps) if t > now]
        snap = _Snapshot(
            version=version,
            stamps=stamps,
            dropped=dropped,
            valid_until=min(leaving, default=now + timedelta(days=1)),
            expires=time.monotonic() + self.ttl,
            validators={},
        )
        if DATA_VERSION.value == version:  # a write raced the read: do not keep it
            self._snapshot = snap
        return snap

    def _validators(
        self, snap: _Snapshot, floor: datetime, kind: FeedKind, locale: str
    ) -> _Validators:
        key = (kind, locale, floor)
        found = snap.validators.get(key)
        if found is None:
            etag = feed_etag(snap.stamps, kind=kind, locale=locale, strings=self.digest(locale))
            found = _Validators(etag, feed_last_modified(snap.stamps, snap.dropped, floor))
            snap.validators[key] = found
        return found

    async def _body(
        self, snap: _Snapshot, validators: _Validators, kind: FeedKind, locale: str
    ) -> bytes:
        body = self._bodies.get(validators.etag)
        if body is not None:
            return body
        async with self.ctx.session_factory() as session:
            meetings = await meetings_by_ids(session, [s.id for s in snap.stamps])
        self.queries += 1
        body = render_calendar(meetings, self.translate(locale), kind)
        self.renders += 1
        # Cache only if the rows read are the ones the ETag describes.
        read = [
            MeetingStamp(m.id, m.sequence, m.status, m.starts_at, m.duration_min, m.updated_at)
            for m in meetings
        ]
        if read == snap.stamps:
            self._bodies[validators.etag] = body
            while len(self._bodies) > CACHE_ENTRIES:
                self._bodies.popitem(last=False)
        return body

    async def respond(self, request: web.Request, name: str) -> web.StreamResponse:
        now = self.ctx.clock.now()
        kind: FeedKind
        if name == PUBLIC_NAME:
            if not self.public_feed:
                raise web.HTTPNotFound()
            kind, locale, floor = "public", self.ctx.settings.default_locale, EPOCH
        else:
            if not well_formed(name):
                raise web.HTTPNotFound()
            owner = await self._owner(name)
            if owner is None:
                raise web.HTTPNotFound()
            kind, locale, floor = "private", owner.locale, owner.updated_at
        snap = await self._stamps(now)
        validators = self._validators(snap, floor, kind, locale)
        if _not_modified(request, validators):
            return _response(web.HTTPNotModified.status_code, validators, kind)
        response = _response(200, validators, kind)
        response.body = await self._body(snap, validators, kind, locale)
        return response


FEEDS_KEY = web.AppKey("feeds", FeedService)


def _response(status: int, validators: _Validators, kind: FeedKind) -> web.Response:
    headers = {
        "ETag": validators.etag,
        "Last-Modified": format_datetime(validators.last_modified, usegmt=True),
        # A private feed's address is a secret: keep it out of shared caches and referrers.
        "Cache-Control": ("private" if kind == "private" else "public") + ", max-age=3600",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    if status == 200:
        headers["Content-Type"] = CONTENT_TYPE
        headers["Content-Disposition"] = 'inline; filename="harbin-club.ics"'
    return web.Response(status=status, headers=headers)


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    tags = (t.strip().removeprefix("W/") for t in header.split(","))
    return etag in tags


def _not_modified(request: web.Request, validators: _Validators) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # takes precedence over If-Modified-Since
        return _etag_matches(inm, validators.etag)
    ims = request.headers.get("If-Modified-Since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return validators.last_modified <= since
