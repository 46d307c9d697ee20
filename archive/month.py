"""The memoir of the month: organisers pick an approved memoir and it is posted in the
club's chat (delivery/club_chat.py) in the club's language: its title, author and opening
lines, with a button that opens it whole in the bot, in the reader's own language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.memoirs import APPROVED
from db.models import Memoir, OutboxMessage
from delivery import club_chat
from delivery.messages import Button, Outgoing
from ground.i18n import Translator

EXCERPT = 700
START_PREFIX = "a"  # /start a<id> opens the memoir in the bot
CHOICES = 8


def start_parameter(memoir_id: int) -> str:
    return f"{START_PREFIX}{memoir_id}"


def memoir_of_start(parameter: str | None) -> int | None:
    text = (parameter or "").strip()
    if text.startswith(START_PREFIX) and text[1:].isdigit() and len(text) < 12:
        return int(text[1:])
    return None


async def recent_approved(session: AsyncSession, limit: int = CHOICES) -> list[Memoir]:
    """The latest approved memoirs, to choose the memoir of the month from."""
    rows = await session.scalars(
        select(Memoir).where(Memoir.status == APPROVED).order_by(Memoir.id.desc()).limit(limit)
    )
    return list(rows)


def excerpt(body: str | None, limit: int = EXCERPT) -> str:
    text = (body or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",.;:—- ") + "…"


def memoir_post(i18n: Translator, locale: str, memoir: Memoir) -> Outgoing:
    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    lines = [
        t("Memoir of the month: «{title}»").format(title=memoir.title or t("Untitled")),
        t("Shared by {author}").format(author=memoir.author_name or t("anonymous")),
    ]
    if memoir.body:
        lines += ["", excerpt(memoir.body)]
    lines += ["", t("Read it whole, with its photos and recordings, in the bot.")]
    button = Button(
        t("📖 Read in the bot"), club_chat.OPEN_BOT_ACTION, (start_parameter(memoir.id),)
    )
    return Outgoing("\n".join(lines), ((button,),))


async def post_memoir_of_month(
    session: AsyncSession, memoir: Memoir, i18n: Translator, locale: str, *, now: datetime
) -> OutboxMessage:
    """Queue the post (the caller commits); ValueError for a memoir not in the archive."""
    if memoir.status != APPROVED:
        raise ValueError("only an approved memoir can be the memoir of the month")
    message = memoir_post(i18n, locale, memoir)
    row = club_chat.queue_written_post(session, f"memoir:{memoir.id}", message, due_at=now)
    await session.flush()
    return row
