"""The monthly memoir prompt: when a meeting gets a theme, invite members to share a memory.

Invitations are outbox rows (kind "memoir_prompt:<meeting id>", payload {"theme"}), sent by
the delivery tick like every other message. `Member.memoir_prompts` says who wants them.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Meeting, Member, OutboxMessage
from delivery.messages import Button, Outgoing
from delivery.rendering import Renderer, Stale
from ground.i18n import N_, Translator

KIND_PREFIX = "memoir_prompt:"


INVITATION = N_(
    "The theme of our next meeting is “{theme}”. Do you have a memory of it — a story, "
    "a photograph, a letter? Share it with the club: it will be kept in our archive."
)
WRITE_BUTTON = N_("✍️ Share a memory")
STOP_BUTTON = N_("Don't invite me again")


# The invitation's buttons: ("write", meeting id) starts /memoir on the theme; ("off",)
# opts out. handlers/outbound.py turns them into Telegram's callback data.
ACTION = "memoir_prompt"


def prompt_kind(meeting_id: int) -> str:
    return f"{KIND_PREFIX}{meeting_id}"


def is_prompt_kind(kind: str) -> bool:
    return kind.startswith(KIND_PREFIX)


def meeting_id_of(kind: str) -> int | None:
    tail = kind.removeprefix(KIND_PREFIX)
    return int(tail) if tail.isdigit() else None


# ---------------------------------------------------------------- opt-out


async def prompts_wanted(session: AsyncSession, member_id: int) -> bool:
    return bool(await session.scalar(select(Member.memoir_prompts).where(Member.id == member_id)))


async def set_prompts_wanted(
    session: AsyncSession, member: Member, wanted: bool, *, now: datetime
) -> None:
    """Opt in or out; opting out also drops invitations still waiting to be sent."""
    session.add(member)  # it may come detached from the member cache
    member.memoir_prompts = wanted
    if not wanted:
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.member_id == member.id,
                OutboxMessage.kind.like(f"{KIND_PREFIX}%"),
                OutboxMessage.sent_at.is_(None),
            )
        )
    await session.flush()


# ---------------------------------------------------------------- queueing and rendering


async def _invitees(session: AsyncSession) -> list[int]:
    query = select(Member.id).where(
        Member.registered_at.is_not(None),
        Member.reachable.is_(True),
        Member.memoir_prompts.is_(True),
    )
    return list(await session.scalars(query.order_by(Member.id)))


async def queue_prompts(session: AsyncSession, meeting: Meeting, *, now: datetime) -> int:
    """One invitation per member per meeting. A changed theme updates invitations not yet
    sent; members already invited to this meeting are not invited twice. Returns the
    number of invitations queued or updated."""
    if not meeting.theme:
        return 0
    kind = prompt_kind(meeting.id)
    body = json.dumps({"theme": meeting.theme}, ensure_ascii=False)
    existing = {
        row.member_id: row
        for row in await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind == kind
            )
        )
    }
    touched = 0
    for member_id in await _invitees(session):
        row = existing.get(member_id)
        if row is None:
            session.add(
                OutboxMessage(
                    meeting_id=meeting.id, member_id=member_id, kind=kind, due_at=now, payload=body
                )
            )
        elif row.sent_at is None and not row.dropped:
            row.payload = body
        else:
            continue
        touched += 1
    await session.flush()
    return touched


def render_prompt(i18n: Translator, locale: str, meeting_id: int, payload: str | None) -> Outgoing:
    """The invitation in the member's language, with its two buttons."""

    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    theme = str(json.loads(payload or "{}").get("theme") or "")
    buttons = (
        (Button(t(WRITE_BUTTON), ACTION, ("write", meeting_id)),),
        (Button(t(STOP_BUTTON), ACTION, ("off", 0)),),
    )
    return Outgoing(t(INVITATION).format(theme=theme), buttons)


def prompt_renderer(i18n: Translator) -> Renderer:
    """What the delivery tick calls for an invitation, at the moment it is sent."""

    async def render_row(
        session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> Outgoing:
        # Checked again at send time: the member may have opted out after it was queued.
        if not await prompts_wanted(session, member.id):
            raise Stale("member opted out of memoir prompts")
        return render_prompt(i18n, member.locale, row.meeting_id or 0, row.payload)

    return render_row
