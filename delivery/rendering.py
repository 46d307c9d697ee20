"""How a domain says what one of its outbox rows reads like, at the moment it is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, OutboxMessage
from delivery.messages import Outgoing


class Stale(Exception):
    """Too late or no longer wanted: the row is dropped without sending."""


# (session, row, member, now) -> the message; raises Stale when it should not go out.
Renderer = Callable[[AsyncSession, OutboxMessage, Member, datetime], Awaitable[Outgoing]]

# (session, row, now) -> the post, for rows to a chat rather than a member (club posts).
ChatRenderer = Callable[[AsyncSession, OutboxMessage, datetime], Awaitable[Outgoing]]
