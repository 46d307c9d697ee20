"""Notes: outbox rows to a chat whose whole text and buttons were written when queued.

For people who may not be members (organisers listed in ADMIN_IDS): the monthly plan, a
broadcast's final count. The payload is JSON: {"text": ..., "buttons": [[{label, action,
args}]]}.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.members import locales_of, organiser_ids
from db.models import OutboxMessage
from delivery.messages import Button, Outgoing

KIND_PREFIX = "note:"


def payload_of(message: Outgoing) -> str:
    buttons = [
        [{"label": b.label, "action": b.action, "args": list(b.args)} for b in row]
        for row in message.buttons
    ]
    return json.dumps({"text": message.text, "buttons": buttons}, ensure_ascii=False)


def read(payload: str | None) -> Outgoing:
    data = json.loads(payload or "{}")
    rows = tuple(
        tuple(Button(b["label"], b["action"], tuple(b.get("args", ()))) for b in row)
        for row in data.get("buttons", ())
    )
    return Outgoing(str(data.get("text", "")), rows)


def queue_note(
    session: AsyncSession, chat_id: int, kind: str, message: Outgoing, *, due_at: datetime
) -> OutboxMessage:
    """Add the note to the session; the caller's unit of work commits it."""
    row = OutboxMessage(
        member_id=None,
        chat_id=chat_id,
        kind=KIND_PREFIX + kind,
        payload=payload_of(message),
        due_at=due_at,
    )
    session.add(row)
    return row


async def queue_to_organisers(
    session: AsyncSession,
    config_ids: Collection[int],
    default_locale: str,
    kind: str,
    message_for: Callable[[str], Outgoing],
    *,
    due_at: datetime,
    skip: Collection[int] = (),
) -> int:
    """A note to every organiser but `skip`, written for each in their language (the one
    `locales_of` decides). Returns how many were queued."""
    ids = await organiser_ids(session, config_ids) - set(skip)
    locales = await locales_of(session, ids, default_locale)
    for telegram_id in sorted(ids):
        queue_note(session, telegram_id, kind, message_for(locales[telegram_id]), due_at=due_at)
    return len(ids)
