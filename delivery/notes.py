"""Notes: outbox rows to a chat whose whole text and buttons were written when queued.

For people who may not be members (organisers listed in ADMIN_IDS): the monthly plan, a
broadcast's final count. The payload is JSON: {"text": ..., "buttons": [[{label, action,
args}]]}.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

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
