"""Operator endpoints: `/healthz` (JSON) and `/metrics` (Prometheus text format).

/healthz answers 503 only when the database is unreachable: that is when a load balancer
should take the instance out. Telegram being unreachable is reported but keeps 200, since
every instance would see the same outage and restarting would not help.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from aiohttp import web
from sqlalchemy import func, literal, select

from db.models import OutboxMessage
from ground import metrics
from ground.context import AppContext

log = logging.getLogger(__name__)

GETME_TTL = 30.0  # seconds a getMe answer stands for Telegram's reachability
CHECK_TIMEOUT = 5.0


@dataclass
class _TelegramCheck:
    ok: bool
    at: float


class Health:
    def __init__(self, ctx: AppContext, bot: Bot | None = None, *, ttl: float = GETME_TTL) -> None:
        self.ctx = ctx
        self.bot = bot  # set by the runner once the bot exists; None: not checked
        self.ttl = ttl
        self._telegram: _TelegramCheck | None = None
        self._lock = asyncio.Lock()  # one getMe at a time, however many probes arrive

    async def database_ok(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.ctx.session_factory() as session:
                await session.execute(select(literal(1)))
        except Exception as exc:
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            return False
        return True

    async def telegram_ok(self) -> bool | None:
        if self.bot is None:
            return None
        async with self._lock:
            cached = self._telegram
            if cached is not None and time.monotonic() - cached.at < self.ttl:
                return cached.ok
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self.bot.get_me()
                ok = True
            except Exception as exc:
                log.warning("health check: Telegram unreachable: %s", type(exc).__name__)
                ok = False
            self._telegram = _TelegramCheck(ok, time.monotonic())
            return ok

    async def outbox_lag(self) -> float:
        """Seconds the oldest due, unsent row has waited (0 when nothing is due)."""
        now = self.ctx.clock.now()
        query = select(func.min(OutboxMessage.due_at)).where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dropped.is_(False),
            OutboxMessage.due_at <= now,
        )
        async with self.ctx.session_factory() as session:
            oldest = await session.scalar(query)
        if oldest is None:
            return 0.0
        return max(0.0, (now - oldest).total_seconds())

    async def healthz(self, _request: web.Request) -> web.Response:
        database = await self.database_ok()
        body: dict[str, object] = {"database": database, "telegram": await self.telegram_ok()}
        if database:
            try:
                body["outbox_lag_seconds"] = round(await self.outbox_lag(), 3)
            except Exception:
                database = False
                body["database"] = False
        body["status"] = "ok" if database and body["telegram"] is not False else "degraded"
        if not database:
            body["status"] = "unavailable"
        return web.json_response(body, status=200 if database else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            lag = await self.outbox_lag()
        except Exception:
            lag = -1.0  # the database is down: a value no alert mistakes for "fine"
        text = metrics.render(
            [("harbin_outbox_lag_seconds", "Age of the oldest due unsent outbox row", lag)]
        )
        return web.Response(text=text, content_type="text/plain", charset="utf-8")


HEALTH_KEY = web.AppKey("health", Health)


def mount_ops(app: web.Application, ctx: AppContext) -> Health:
    health = Health(ctx)
    app[HEALTH_KEY] = health
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/metrics", health.metrics, name="metrics")
    return health
