"""The bot's aiohttp application: calendar feeds, health and metrics, the public web
archive (web/site.py) and the members' Mini App (web/miniapp.py). Views stay thin; what
they serve comes from the domains."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ground import metrics
from ground.context import AppContext
from web.feeds import FEEDS_KEY, FeedService
from web.health import mount_ops
from web.log_redaction import install_log_redaction
from web.miniapp import RelativesSearch, mount_miniapp
from web.rendering import Renderer, load_static
from web.security import allowed_origins, same_origin_posts, security_headers
from web.site import mount_site

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def bare_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No stack trace, internal path or exception text ever reaches a client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.Response(status=exc.status, text=exc.reason or "Error", headers=allow)
    except Exception:
        # The path may hold a member's token: log the route, never the address.
        route = request.match_info.route.name or "unknown"
        log.exception("web handler failed (route %s)", route)
        return web.Response(status=500, text="Internal Server Error")


def build_web_app(
    ctx: AppContext,
    *,
    public_feed: bool | None = None,
    bot_token: str | None = None,
    relatives: RelativesSearch | None = None,
) -> web.Application:
    """The aiohttp application; `public_feed` defaults to the PUBLIC_FEED setting. The
    Mini App is served when the bot's token is known (it checks Telegram's signatures)."""
    if public_feed is None:
        public_feed = ctx.settings.public_feed
    service = FeedService(ctx, public_feed=public_feed)

    async def feed(request: web.Request) -> web.StreamResponse:
        filename = request.match_info["filename"]
        if not filename.endswith(".ics"):
            raise web.HTTPNotFound()
        metrics.FEED_REQUESTS.inc()  # metrics (issue 7)
        return await service.respond(request, filename.removesuffix(".ics"))

    origins = allowed_origins(ctx.settings.public_base_url)
    app = web.Application(middlewares=[security_headers, bare_errors, same_origin_posts(origins)])
    app[FEEDS_KEY] = service
    app.router.add_get("/feed/{filename}", feed, name="feed")
    mount_ops(app, ctx)  # /healthz and /metrics: bot/health.py
    renderer = Renderer(ctx.i18n, load_static())
    mount_site(app, ctx, renderer)
    if bot_token is not None:
        mount_miniapp(app, ctx, renderer, bot_token=bot_token, relatives=relatives)
    return app


async def start_web(
    ctx: AppContext, host: str, port: int, *, app: web.Application | None = None
) -> web.AppRunner:
    """Serve on host:port; the caller awaits `runner.cleanup()` on shutdown.

    The access log is off and the server's loggers redact what they say: request lines
    carry members' private feed tokens.
    """
    install_log_redaction()
    runner = web.AppRunner(app or build_web_app(ctx), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("web server on %s", ", ".join(str(a) for a in runner.addresses))
    return runner
