"""Safe by default: headers on every answer, same-origin POSTs, a rate limit for searches.

- Pages get a Content-Security-Policy that allows only our own scripts, styles, pictures
  and recordings (no inline script, no inline style); members' files get one that runs
  nothing at all, in case a file is opened on its own. `nosniff` everywhere.
- A POST to the Mini App must come from our own pages: its Origin (or, without one, the
  browser's Sec-Fetch-Site) must say so. The session cookie is also SameSite=Strict.
- Searches are limited per client address with a token bucket (memory bounded).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_COMMON_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'"
)
SITE_CSP = _COMMON_CSP + "; frame-ancestors 'none'"
# Telegram's web client shows Mini Apps in a frame; its apps open them as a whole page.
APP_CSP = _COMMON_CSP + "; frame-ancestors 'self' https://web.telegram.org"
FILE_CSP = "default-src 'none'; sandbox"
APP_PREFIX = "/app/"


def _is_app(path: str) -> bool:
    return path == "/app" or path.startswith(APP_PREFIX)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("text/html"):
        app = _is_app(request.path)
        headers.setdefault("Content-Security-Policy", APP_CSP if app else SITE_CSP)
        if not app:
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    elif "Content-Disposition" in headers:
        headers.setdefault("Content-Security-Policy", FILE_CSP)
    if isinstance(response, web.HTTPException):
        raise response
    return response


def allowed_origins(public_base_url: str) -> frozenset[str]:
    parts = urlsplit(public_base_url)
    return frozenset({f"{parts.scheme}://{parts.netloc}".lower()})


def same_origin(request: web.Request, origins: frozenset[str]) -> bool:
    """Whether an unsafe request comes from our own pages (the public address, or the
    address this request was made to, as a test or the sandbox reaches it)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        own = f"{request.scheme}://{request.host}".lower()
        return origin.lower() in origins or origin.lower() == own
    # Browsers that send no Origin on a same-origin POST do send Sec-Fetch-Site.
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


def same_origin_posts(origins: frozenset[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if unsafe and _is_app(request.path) and not same_origin(request, origins):
            raise web.HTTPForbidden(reason="Cross-site request refused")
        return await handler(request)

    return check


def client_address(request: web.Request) -> str:
    """The visitor's address. Behind a reverse proxy on this host (the peer is loopback),
    the last address the proxy added to X-Forwarded-For; otherwise the peer's own."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        try:
            loopback = ipaddress.ip_address(peer).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


class RateLimiter:
    """A token bucket per key: `burst` at once, then `rate` per second."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead (and one token is spent); otherwise the
        seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            return (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return 0.0
