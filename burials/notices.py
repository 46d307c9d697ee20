"""What the outbox says about burial records and relatives, in the member's language,
at the moment it is sent.

Kinds (the id after the last colon):
- `relatives:match:<match id>`: a record or memoir that may concern a family they look for;
- `relatives:many:<wish id>`: many at once for a new wish (payload {"count"});
- `relatives:ask:<introduction id>`: another member looks for the same family: in touch?
- `relatives:met:<introduction id>`: both agreed: the other's name and a way to write;
- `relatives:declined:<introduction id>`: the other preferred not (nothing was shared);
- `relatives:note:<introduction id>`: the one message the other member wrote (payload {"text"});
- `burials:decision:<record id>`: the organisers approved or rejected a record the member
  added (payload {"status", "reason"}).

A row whose subject is gone (a wish removed, a member who left, a record deleted) is
dropped as stale. Buttons say what they mean; handlers/outbound.py makes them Telegram's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from burials import relatives
from burials.display import card_text, name_as_written
from burials.records import APPROVED, REJECTED
from db.models import BurialRecord, Member, Memoir, OutboxMessage, RelativeMatch, RelativeWish
from delivery.messages import Button, Outgoing
from delivery.rendering import Renderer, Stale
from ground.i18n import N_, Translator

DECISION_PREFIX = "burials:decision:"

# Button actions (handlers/outbound.py:CALLBACKS).
SHOW_RECORD = "grave_show"  # (record id,)
READ_MEMOIR = "relatives_memoir"  # (memoir id,)
INTRODUCTION = "relatives_intro"  # ("yes" | "no" | "write", introduction id)

MATCH_RECORD = N_(
    "A burial record may concern the family “{surname}” you are looking for:\n\n{card}"
)
MATCH_MEMOIR = N_(
    "A memoir in the club's archive may mention the family “{surname}” you are looking "
    "for: “{title}” by {author}."
)
SHOW_BUTTON = N_("🪦 Open the record")
READ_BUTTON = N_("📖 Read the memoir")
ASK = N_(
    "Another member of the club is also looking for the family “{surname}”. Would you like "
    "to be put in touch? Nothing about you is shown to them unless you both agree."
)
YES_BUTTON = N_("Yes, put us in touch")
NO_BUTTON = N_("No, thank you")
MET = N_(
    "The other member looking for the family “{surname}” agreed too. They would like to be "
    "called {name}."
)
MET_LINK = N_("You can write to them here: {link}")
MET_RELAY = N_(
    "They prefer not to share a link, so I will pass on one message from you: who you are, "
    "what you know about the family and how to reach you."
)
WRITE_BUTTON = N_("✉️ Write to {name}")
DECLINED = N_(
    "The other member looking for the family “{surname}” preferred not to be put in touch. "
    "Nothing about you was shared."
)
NOTE = N_("A message from {name}, who is also looking for the family “{surname}”:\n\n{text}")
APPROVED_TEXT = N_(
    "Thank you! The burial record “{name}” is now in the club's database. /grave finds it."
)
REJECTED_TEXT = N_(
    "Thank you for the burial record “{name}”. The organisers could not add it as it is. "
    "Their note: {reason}\n\nYou are welcome to add it again with /addgrave."
)
LIST_HINT = N_("/relatives shows the families you are looking for.")
ANONYMOUS = N_("anonymous")
UNTITLED = N_("Untitled")


def _translate(i18n: Translator, locale: str) -> Callable[[str], str]:
    def t(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    return t


def _payload(row: OutboxMessage) -> dict[str, object]:
    try:
        data = json.loads(row.payload or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _id(row: OutboxMessage) -> int:
    found = relatives.kind_id(row.kind)
    if found is None:
        raise Stale(f"no id in kind {row.kind!r}")
    return found


async def _match(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    match = await session.get(RelativeMatch, _id(row))
    if match is None or match.member_id != member.id:
        raise Stale("the wish was removed")
    surname = await relatives.wish_surname(session, match.wish_id)
    if match.record_id is not None:
        record = await session.get(BurialRecord, match.record_id)
        if record is None or record.status != APPROVED:
            raise Stale("the record is no longer approved")
        text = t(MATCH_RECORD).format(surname=surname, card=card_text(record, member.locale, t))
        button = Button(t(SHOW_BUTTON), SHOW_RECORD, (record.id,))
    else:
        memoir = await session.get(Memoir, match.memoir_id)
        if memoir is None or memoir.status != relatives.MEMOIRS_APPROVED:
            raise Stale("the memoir is no longer in the archive")
        text = t(MATCH_MEMOIR).format(
            surname=surname,
            title=memoir.title or t(UNTITLED),
            author=memoir.author_name or t(ANONYMOUS),
        )
        button = Button(t(READ_BUTTON), READ_MEMOIR, (memoir.id,))
    return Outgoing(f"{text}\n\n{t(LIST_HINT)}", ((button,),))


async def _many(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    wish = await session.get(RelativeWish, _id(row))
    if wish is None or wish.member_id != member.id:
        raise Stale("the wish was removed")
    count = int(_payload(row).get("count") or 0)  # type: ignore[call-overload]

    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.gettext(singular, plural, n, locale=member.locale)

    text = ngettext(
        "I found {count} burial record or memoir that may concern the family “{surname}”.",
        "I found {count} burial records and memoirs that may concern the family “{surname}”.",
        count,
    ).format(count=count, surname=wish.surname)
    hint = t("/grave {surname} shows the burial records.").format(surname=wish.surname)
    return Outgoing(f"{text}\n{hint}\n\n{t(LIST_HINT)}")


async def _side(session: AsyncSession, row: OutboxMessage, member: Member) -> relatives.Side:
    side = await relatives.side_of(session, _id(row), member.id)
    if side is None:
        raise Stale("the introduction is gone")
    return side


async def _ask(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    side = await _side(session, row, member)
    if side.mine("answer") is not None or side.declined:
        raise Stale("already answered or closed")
    surname = await relatives.wish_surname(session, side.wish_id)
    buttons = (
        (Button(t(YES_BUTTON), INTRODUCTION, ("yes", side.intro.id)),),
        (Button(t(NO_BUTTON), INTRODUCTION, ("no", side.intro.id)),),
    )
    return Outgoing(t(ASK).format(surname=surname), buttons)


def write_button(t: Callable[[str], str], side: relatives.Side) -> tuple[tuple[Button, ...], ...]:
    if not relatives.can_relay(side):
        return ()
    label = t(WRITE_BUTTON).format(name=side.theirs("name"))
    return ((Button(label[:60], INTRODUCTION, ("write", side.intro.id)),),)


async def _met(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    side = await _side(session, row, member)
    if not side.both_agreed:
        raise Stale("not agreed")
    surname = await relatives.wish_surname(session, side.wish_id)
    lines = [t(MET).format(surname=surname, name=side.theirs("name"))]
    link = side.theirs("link")
    lines.append(t(MET_LINK).format(link=f"https://t.me/{link}") if link else t(MET_RELAY))
    return Outgoing("\n\n".join(lines), write_button(t, side))


async def _declined(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    side = await _side(session, row, member)
    surname = await relatives.wish_surname(session, side.wish_id)
    return Outgoing(t(DECLINED).format(surname=surname))


async def _note(
    session: AsyncSession, row: OutboxMessage, member: Member, i18n: Translator
) -> Outgoing:
    t = _translate(i18n, member.locale)
    side = await _side(session, row, member)
    surname = await relatives.wish_surname(session, side.wish_id)
    text = t(NOTE).format(
        name=side.theirs("name"), surname=surname, text=str(_payload(row).get("text") or "")
    )
    return Outgoing(text, write_button(t, side))


_RELATIVES = {
    relatives.KIND_MATCH: _match,
    relatives.KIND_MANY: _many,
    relatives.KIND_ASK: _ask,
    relatives.KIND_MET: _met,
    relatives.KIND_DECLINED: _declined,
    relatives.KIND_NOTE: _note,
}


def relatives_renderer(i18n: Translator) -> Renderer:
    async def render_row(
        session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> Outgoing:
        for prefix, render in _RELATIVES.items():
            if row.kind.startswith(prefix):
                return await render(session, row, member, i18n)
        raise Stale(f"unknown kind {row.kind!r}")

    return render_row


# ---------------------------------------------------------------------- moderation


def queue_decision(session: AsyncSession, record: BurialRecord, now: datetime) -> bool:
    """Tells the member who added the record what the organisers decided (False when the
    record has no author any more)."""
    if record.added_by is None:
        return False
    payload = {"status": record.status, "reason": record.reject_reason}
    session.add(
        OutboxMessage(
            member_id=record.added_by,
            kind=f"{DECISION_PREFIX}{record.id}",
            due_at=now,
            payload=json.dumps(payload, ensure_ascii=False),
        )
    )
    return True


def decision_renderer(i18n: Translator) -> Renderer:
    async def render_row(
        session: AsyncSession, row: OutboxMessage, member: Member, now: datetime
    ) -> Outgoing:
        t = _translate(i18n, member.locale)
        record = await session.get(BurialRecord, _id(row))
        if record is None:
            raise Stale("the record was deleted")
        data = _payload(row)
        name = name_as_written(record)
        if data.get("status") == REJECTED:
            reason = str(data.get("reason") or "—")
            return Outgoing(t(REJECTED_TEXT).format(name=name, reason=reason))
        return Outgoing(t(APPROVED_TEXT).format(name=name))

    return render_row
