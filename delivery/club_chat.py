"""Posts in the club's own Telegram channel or group (CLUB_CHAT_ID).

A post is an outbox row with neither a member nor a chat: its kind starts with "club:",
and the delivery tick sends it to the club chat configured at that moment (with none, the
row is dropped quietly). Its text is written when it is sent, by the renderer registered
for its kind (announcements, programme changes), or, for "club:note:" posts, was written
when it was queued (the memoir of the month).

A chat the bot cannot post to (not an administrator there, removed, a wrong id) loses
nothing: the post is held, the organisers get one note that says what to do, with a
button that posts every held post again, and everything else keeps going out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from delivery import notes
from delivery.messages import Button, Outgoing
from ground.i18n import N_, Translator

PREFIX = "club:"
NOTE_PREFIX = "club:note:"
HELD = "held: "
# The organisers' note about a chat the bot cannot post to (a notes.queue_note kind).
FAILED_NOTE = "club-chat-failed"
# While posts keep failing, organisers are reminded at most this often.
RENOTIFY_AFTER = timedelta(hours=6)
# The note's button: handlers/outbound.py turns it into callback data.
RETRY_ACTION = "club_retry"
# A post's button that opens the bot: Button(label, OPEN_BOT_ACTION, (start parameter,))
# becomes a t.me deep link (handlers/outbound.py); the bot then answers each reader in
# their own language.
OPEN_BOT_ACTION = "open_bot"

CANNOT_POST = N_(
    "I could not post to the club's chat: {cause} Telegram said: “{detail}”.",
)
WHAT_TO_DO = N_(
    "Please add me to the chat as an administrator allowed to post messages (or check "
    "CLUB_CHAT_ID), then press the button."
)
RETRY_LABEL = N_("📣 Post again")
CAUSE_NOT_MEMBER = N_("I am not a member of it.")
CAUSE_NO_RIGHTS = N_("I am not allowed to post there.")
CAUSE_NOT_FOUND = N_("there is no chat with that id.")
CAUSE_OTHER = N_("Telegram refused the post.")


@dataclass(frozen=True)
class ClubChat:
    """Where club posts go, and who hears when they cannot."""

    chat_id: int | None
    admin_ids: frozenset[int] = frozenset()
    default_locale: str = "ru"


def queue_post(
    session: AsyncSession,
    kind: str,
    *,
    due_at: datetime,
    meeting_id: int | None = None,
    payload: str | None = None,
) -> OutboxMessage:
    """A post whose text the renderer of `PREFIX + kind` writes when it is sent."""
    row = OutboxMessage(
        member_id=None,
        chat_id=None,
        meeting_id=meeting_id,
        kind=PREFIX + kind,
        payload=payload,
        due_at=due_at,
    )
    session.add(row)
    return row


def queue_written_post(
    session: AsyncSession, kind: str, message: Outgoing, *, due_at: datetime
) -> OutboxMessage:
    """A post whose text and buttons are written now (notes' payload)."""
    row = OutboxMessage(
        member_id=None,
        chat_id=None,
        kind=NOTE_PREFIX + kind,
        payload=notes.payload_of(message),
        due_at=due_at,
    )
    session.add(row)
    return row


async def queue_quiet_post(
    session: AsyncSession, kind: str, meeting_id: int, *, due_at: datetime
) -> OutboxMessage:
    """One waiting post of this kind per meeting: a newer change pushes it back instead of
    adding a second one (the text is written when it finally goes out)."""
    waiting = await session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == PREFIX + kind,
            OutboxMessage.meeting_id == meeting_id,
            OutboxMessage.member_id.is_(None),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dropped.is_(False),
        )
    )
    if waiting is not None:
        waiting.due_at = due_at
        return waiting
    return queue_post(session, kind, due_at=due_at, meeting_id=meeting_id)


def is_club_post(row: OutboxMessage) -> bool:
    return row.member_id is None and row.kind.startswith(PREFIX)


def _cause(error: str) -> str:
    low = error.lower()
    if "not found" in low:
        return CAUSE_NOT_FOUND
    if "not a member" in low or "kicked" in low or "left" in low:
        return CAUSE_NOT_MEMBER
    if "rights" in low or "administrator" in low or "not enough" in low:
        return CAUSE_NO_RIGHTS
    return CAUSE_OTHER


def _held():  # type: ignore[no-untyped-def]
    return (
        OutboxMessage.member_id.is_(None),
        OutboxMessage.kind.like(PREFIX + "%"),
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.dropped.is_(True),
        OutboxMessage.last_error.like(HELD + "%"),
    )


async def held_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(*_held())
    return int(await session.scalar(query) or 0)


async def hold(
    session: AsyncSession,
    row_id: int,
    error: str,
    *,
    now: datetime,
    club: ClubChat,
    i18n: Translator,
) -> int:
    """Keep a post the chat refused, and tell the organisers (not more often than
    RENOTIFY_AFTER). Returns the notes queued."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(dropped=True, claimed_until=None, last_error=(HELD + error)[:500])
    )
    told_lately = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == notes.KIND_PREFIX + FAILED_NOTE,
            OutboxMessage.due_at > now - RENOTIFY_AFTER,
        )
        .limit(1)
    )
    if told_lately is not None:
        return 0
    waiting = await held_count(session)

    def note(locale: str) -> Outgoing:
        def t(message: str) -> str:
            return i18n.gettext(message, locale=locale)

        def ngettext(singular: str, plural: str, n: int) -> str:
            return i18n.gettext(singular, plural, n, locale=locale)

        waiting_text = ngettext(
            "Nothing is lost: {count} post is waiting.",
            "Nothing is lost: {count} posts are waiting.",
            waiting,
        )
        text = "\n\n".join(
            (
                t(CANNOT_POST).format(cause=t(_cause(error)), detail=error[:200]),
                waiting_text.format(count=waiting),
                t(WHAT_TO_DO),
            )
        )
        return Outgoing(text, ((Button(t(RETRY_LABEL), RETRY_ACTION),),))

    told = await notes.queue_to_organisers(
        session, club.admin_ids, club.default_locale, FAILED_NOTE, note, due_at=now
    )
    await session.flush()
    return told


async def release_held(session: AsyncSession, now: datetime) -> int:
    """Every held post is due again (an organiser fixed the chat and pressed the button)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(*_held())
        .values(dropped=False, due_at=now, attempts=0, last_error=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
