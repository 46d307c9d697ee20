"""The bot's HTTP session to the Bot API, which survives an update it cannot decode.

aiogram decodes a getUpdates answer as one list: one update it cannot read (a new field of
a wrong shape, a broken server) fails the whole batch, and polling asks for the same batch
again forever while everyone waits. Here, only when that happens, each update is decoded
on its own; one that still fails is logged with its id and replaced by a placeholder that
carries only its id, so polling moves past it and the middleware drops it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update
from pydantic import ValidationError

from handlers.middlewares import UNDECODABLE

log = logging.getLogger(__name__)


class TolerantSession(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        try:
            return super().check_response(bot, method, status_code, content)
        except ClientDecodeError:
            if not isinstance(method, GetUpdates):
                raise
            salvaged = _decode_one_by_one(bot, content)
            if salvaged is None:
                raise
            return salvaged  # type: ignore[return-value]


def _decode_one_by_one(bot: Bot, content: str) -> Response[list[Update]] | None:
    try:
        data: Any = json.loads(content)
    except ValueError:
        return None
    items = data.get("result") if isinstance(data, dict) and data.get("ok") else None
    if not isinstance(items, list):
        return None
    updates: list[Update] = []
    for item in items:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            return None  # without an id polling cannot move past it: keep the error
        try:
            updates.append(Update.model_validate(item, context={"bot": bot}))
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            log.warning(
                "skipped update %s: it could not be decoded (%s at %s)",
                update_id,
                first.get("type", "invalid"),
                ".".join(str(part) for part in first.get("loc", ())),
            )
            updates.append(Update.model_validate({"update_id": update_id, UNDECODABLE: True}))
    return Response[list[Update]](ok=True, result=updates)
