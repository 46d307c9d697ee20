"""The two gates every update passes on its way to a handler, each written once.

- Organisers: their commands and buttons live on one router, `organisers`, whose gate asks
  the database (and ADMIN_IDS) on every use and refuses anyone else as if the command did
  not exist.
- Members: a handler that needs a registered member is decorated with `@registered`: one
  check, written once, that tells anyone not yet registered how to join (an aiogram filter
  could only skip the handler, not answer).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from db.members import is_organiser

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OrganisersOnly(BaseMiddleware):
    """Refuses non-organisers with the same answer as an unknown command: no hint given."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if data.get("is_organiser") and user is not None:
            # Asked afresh for every admin action: the member cache may be a moment behind
            # a demotion made on another instance.
            settings = data["settings"]
            if await is_organiser(data["session"], user.id, settings.admin_ids):
                return await handler(event, data)
        log.warning("refused an organisers' command from user %s", user.id if user else None)
        if isinstance(event, Message):
            await event.answer(_("I don't know that command. /help lists what I can do."))
        elif isinstance(event, CallbackQuery):
            # Answer it, or the member's button keeps spinning; say no more than a stale one.
            await event.answer(_("This button is no longer active."), show_alert=True)
        return None


# The organisers' router: handlers/{admin,memoir_review,organisers,planning}.py register on
# it. An inner middleware runs only once a handler of this router matched the update.
organisers = Router(name="organisers")
organisers.message.middleware(OrganisersOnly())
organisers.callback_query.middleware(OrganisersOnly())


def not_registered_text() -> str:
    return _("You are not registered yet. Send /start to join the club.")


H = TypeVar("H", bound=Callable[..., Awaitable[Any]])


def registered(handler: H) -> H:
    """Put under a router's decorator: the handler runs for registered members only, and
    anyone else is told how to join. The check wraps just the handlers that need it, so
    the registration dialogue's presses pay nothing for it (bench/updates.py)."""
    parameters = list(inspect.signature(handler).parameters)
    takes = frozenset(parameters[1:])  # after the event, the data it asks for by name

    @wraps(handler)
    async def gated(event: TelegramObject, **data: Any) -> Any:
        member = data.get("member")
        if member is not None and member.is_registered:
            return await handler(event, **{k: v for k, v in data.items() if k in takes})
        if isinstance(event, CallbackQuery):
            await event.answer(not_registered_text(), show_alert=True)
        elif isinstance(event, Message):
            await event.answer(not_registered_text())
        return None

    # aiogram reads a handler's signature following __wrapped__ and would then pass only the
    # wrapped handler's own arguments: without it, the gate gets all data (`member` too).
    del gated.__wrapped__  # type: ignore[attr-defined]
    gated.needs_registration = True  # type: ignore[attr-defined]
    return cast(H, gated)
