"""Calendar feeds over HTTP: `/feed/<token>.ics` (a member's private feed) and
`/feed/public.ics` (only with PUBLIC_FEED; never carries meeting links).

Built for thousands of calendar apps polling: a request that finds everything in memory
costs no query and no rendering.
- Token owners: an LRU of at most `MEMBER_CACHE_ENTRIES`, keyed by a digest of the token,
  each entry valid while `DATA_VERSION.members` is the one it was read at. Every
  `ttl` seconds the kept owners are re-checked against the database together, a few
  hundred per query (writes nobody announced: another process without Redis, an
  operator's SQL).
- Meeting stamps (id, sequence, status, times, updated_at): one snapshot for everyone,
  valid while `DATA_VERSION.meetings` holds, until the next meeting leaves the window,
  and at most `ttl` seconds. The ETag per kind and locale is computed once per snapshot;
  Last-Modified is the later of the snapshot's and the member's own last change.
- Rendered bodies: by ETag (which names kind, locale, translations and data), a few;
  rendered once however many requests wait for the same one, in a worker thread.
The calendar itself is written by scheduling/feeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from ground.context import AppContext
from scheduling.feeds.calendar import FeedKind, render_calendar
from scheduling.feeds.store import (
    DATA_VERSION,
    FeedMember,
    feed_owners,
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
MEMBER_CACHE_ENTRIES = 10_000  # token owners kept (about 0.4 KB each)
# Backstop for writes this process is not told of (another process on the same database).
CACHE_TTL = 30.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Validators:
    etag: str
    last_modified: datetime


@dataclass(slots=True)
class _Owner:
    """A token's owner as of members version `version`."""

    member: FeedMember
    version: int


@dataclass
class _Snapshot:
    """The meeting stamps as of one meetings version, valid until the window next moves."""

    version: int
    stamps: list[MeetingStamp]
    latest: datetime  # the last change of any meeting in it or leaving it
    valid_until: datetime  # clock time at which a meeting leaves the window
    expires: float  # monotonic time: the backstop against writes from other processes
    etags: dict[tuple[FeedKind, str], str] = field(default_factory=dict)


class FeedService:
    """Feed bodies and validators from memory; see the module's docstring."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        public_feed: bool,
        ttl: float = CACHE_TTL,
        member_entries: int = MEMBER_CACHE_ENTRIES,
    ) -> None:
        self.ctx = ctx
        self.public_feed = public_feed
        self.ttl = ttl
        self.member_entries = member_entries
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._rendering: dict[str, asyncio.Future[bytes]] = {}
        # Keyed by a digest: the raw token is never a dict key or in a log.
        self._owners: OrderedDict[bytes, _Owner] = OrderedDict()
        self._owners_checked = time.monotonic()  # when the kept owners were last re-checked
        self._recheck = asyncio.Lock()
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

    @property
    def owners_kept(self) -> int:
        return len(self._owners)

    # ----------------------------------------------------------------------- token owners

    async def _owner(self, token: str) -> FeedMember | None:
        if time.monotonic() - self._owners_checked > self.ttl:
            await self._recheck_owners()
        key = hashlib.sha256(token.encode()).digest()
        version = DATA_VERSION.members
        hit = self._owners.get(key)
        if hit is not None and hit.version == version:
            self._owners.move_to_end(key)
            return hit.member
        async with self.ctx.session_factory() as session:
            owner = await member_by_token(session, token)
        self.queries += 1
        if owner is None:
            self._owners.pop(key, None)
        elif DATA_VERSION.members == version:  # a write raced the read: do not keep it
            self._keep(key, _Owner(owner, version))
        return owner

    def _keep(self, key: bytes, owner: _Owner) -> None:
        self._owners[key] = owner
        self._owners.move_to_end(key)
        while len(self._owners) > self.member_entries:
            self._owners.popitem(last=False)

    async def _recheck_owners(self) -> None:
        """Re-read every kept owner's row in a few queries; drop the ones whose token went."""
        async with self._recheck:
            started = time.monotonic()
            if started - self._owners_checked <= self.ttl:
                return  # another request has just done it
            version = DATA_VERSION.members
            kept = list(self._owners.items())
            ids = sorted({owner.member.id for _key, owner in kept})
            rows: dict[int, tuple[str, FeedMember]] = {}
            if ids:
                async with self.ctx.session_factory() as session:
                    rows = await feed_owners(session, ids)
                self.queries += 1
            for key, owner in kept:
                row = rows.get(owner.member.id)
                same = row is not None and hmac.compare_digest(
                    hashlib.sha256(row[0].encode()).digest(), key
                )
                if self._owners.get(key) is not owner:
                    continue  # replaced or dropped meanwhile: that copy is newer
                if not same:
                    del self._owners[key]
                elif DATA_VERSION.members == version:
                    assert row is not None
                    self._owners[key] = _Owner(row[1], version)
            self._owners_checked = started

    # ----------------------------------------------------------------------- meetings

    async def _stamps(self, now: datetime) -> _Snapshot:
        snap = self._snapshot
        version = DATA_VERSION.meetings
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
            latest=feed_last_modified(stamps, dropped, EPOCH),
            valid_until=min(leaving, default=now + timedelta(days=1)),
            expires=time.monotonic() + self.ttl,
        )
        if DATA_VERSION.meetings == version:  # a write raced the read: do not keep it
            self._snapshot = snap
        return snap

    def _validators(
        self, snap: _Snapshot, floor: datetime, kind: FeedKind, locale: str
    ) -> _Validators:
        etag = snap.etags.get((kind, locale))
        if etag is None:
            etag = feed_etag(snap.stamps, kind=kind, locale=locale, strings=self.digest(locale))
            snap.etags[(kind, locale)] = etag
        # Last-Modified also moves with the member's own change (a new locale, say).
        return _Validators(etag, max(snap.latest, floor.replace(microsecond=0)))

    async def _body(
        self, snap: _Snapshot, validators: _Validators, kind: FeedKind, locale: str
    ) -> bytes:
        etag = validators.etag
        body = self._bodies.get(etag)
        if body is not None:
            return body
        # After a change, the first polls of many apps all miss: one render serves them.
        pending = self._rendering.get(etag)
        if pending is None:
            pending = asyncio.ensure_future(self._render(snap, etag, kind, locale))
            self._rendering[etag] = pending
            pending.add_done_callback(lambda done: self._rendered(etag, done))
        # Shielded: a client hanging up must not cancel the others' render.
        return await asyncio.shield(pending)

    def _rendered(self, etag: str, done: asyncio.Future[bytes]) -> None:
        self._rendering.pop(etag, None)
        if not done.cancelled():
            done.exception()  # retrieved: the waiters (if any) have it too

    async def _render(self, snap: _Snapshot, etag: str, kind: FeedKind, locale: str) -> bytes:
        async with self.ctx.session_factory() as session:
            meetings = await meetings_by_ids(session, [s.id for s in snap.stamps])
        self.queries += 1
        # In a thread: a long feed takes tens of milliseconds, which the event loop (and
        # the bot on it) should not wait for. The rows are loaded: no lazy loads there.
        body = await asyncio.to_thread(render_calendar, meetings, self.translate(locale), kind)
        self.renders += 1
        # Cache only if the rows read are the ones the ETag describes.
        read = [
            MeetingStamp(m.id, m.sequence, m.status, m.starts_at, m.duration_min, m.updated_at)
            for m in meetings
        ]
        if read == snap.stamps:
            self._bodies[etag] = body
            while len(self._bodies) > CACHE_ENTRIES:
                self._bodies.popitem(last=False)
        return body

    # ----------------------------------------------------------------------- HTTP

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
