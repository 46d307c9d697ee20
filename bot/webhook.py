"""Webhook mode: Telegram POSTs updates to the same aiohttp server as the feed.

Only requests carrying the secret given to setWebhook are accepted (compared in constant
time); the update is handed to the dispatcher in a background task so Telegram gets its
200 at once and never retries a slow update as a failed one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web

from ground import metrics

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few KB; refuse anything absurd before parsing


def webhook_path(url: str) -> str:
    """The local route for WEBHOOK_URL: its path (the proxy forwards it unchanged)."""
    path = urlsplit(url).path.rstrip("/")
    return path or "/webhook"


class WebhookReceiver:
    def __init__(self, dp: Dispatcher, bot: Bot, secret: str) -> None:
        self.dp = dp
        self.bot = bot
        self._secret = secret.encode()
        # Strong references: the loop keeps only weak ones to tasks.
        self._tasks: set[asyncio.Task[Any]] = set()

    def _authorised(self, request: web.Request) -> web.Response | None:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            metrics.WEBHOOK_REJECTED.inc()
            return web.Response(status=401, text="Unauthorized")
        if not hmac.compare_digest(given.encode(), self._secret):
            metrics.WEBHOOK_REJECTED.inc()
            return web.Response(status=403, text="Forbidden")
        return None

    async def handle(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="Payload Too Large")
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="Bad Request")
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except ValueError:
            # Telegram resends an update until it gets 200, holding back the ones after it:
            # one the bot cannot decode is logged and acknowledged, so the rest flow.
            update_id = data.get("update_id") if isinstance(data, dict) else None
            log.warning("skipped webhook update %s: it could not be decoded", update_id)
            return web.Response(text="ok")
        task = asyncio.create_task(self._process(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    async def _process(self, update: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, update)
        except Exception:  # the dispatcher's error handler ran; keep the task quiet
            log.exception("update %s failed", update.update_id)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float = 10.0) -> None:
        """Let updates already accepted finish before shutdown."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)


RECEIVER_KEY = web.AppKey("webhook", WebhookReceiver)


def mount_webhook(
    app: web.Application, dp: Dispatcher, bot: Bot, *, url: str, secret: str
) -> WebhookReceiver:
    """Add POST <path of url> to the web app; returns the receiver (for draining)."""
    receiver = WebhookReceiver(dp, bot, secret)
    app[RECEIVER_KEY] = receiver
    app.router.add_post(webhook_path(url), receiver.handle, name="webhook")
    return receiver
