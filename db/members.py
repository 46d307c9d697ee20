"""Plain queries and updates for members and organisers (no Telegram inside)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.member_cache import AFFECTS, MemberCache
from db.models import ChatLocale, Member, Organiser
from db.types import utcnow


@dataclass(frozen=True)
class Registration:
    """Everything the dialogue gathered before the member consented."""

    telegram_id: int
    locale: str
    name: str
    country: str | None
    zone: str
    city: str | None
    hours_start: int
    hours_end: int
    place_id: int | None = None  # geonames id of the city, when geonames knows it


async def get_member(session: AsyncSession, telegram_id: int) -> Member | None:
    return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


LOOK_UP: Any = object()  # save_registration: the caller has not loaded the member


async def save_registration(
    session: AsyncSession, reg: Registration, existing: Member | None = LOOK_UP
) -> Member:
    """Create the member, or overwrite a previous registration of the same person.

    `existing` is their row as this session already loaded it (None: not a member), which
    saves a query; by default it is looked up.
    """
    member = await get_member(session, reg.telegram_id) if existing is LOOK_UP else existing
    now = utcnow()
    if member is None:
        member = Member(telegram_id=reg.telegram_id, locale=reg.locale)
    session.add(member)  # new, or detached from the member cache
    member.locale = reg.locale
    member.name = reg.name
    member.country = reg.country
    member.zone = reg.zone
    member.city = reg.city
    member.place_id = reg.place_id
    member.hours_start = reg.hours_start
    member.hours_end = reg.hours_end
    member.consent_at = now
    member.registered_at = member.registered_at or now
    member.reachable = True
    await session.flush()
    return member


async def update_member(session: AsyncSession, member: Member, **fields: object) -> Member:
    allowed = {
        "locale",
        "name",
        "country",
        "zone",
        "city",
        "place_id",
        "hours_start",
        "hours_end",
        "reminders",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not member settings: {sorted(unknown)}")
    session.add(member)  # it may come detached from the member cache
    for key, value in fields.items():
        setattr(member, key, value)
    await session.flush()
    return member


async def forget_member(session: AsyncSession, telegram_id: int) -> bool:
    """Delete everything stored about a person; rows that hang off them cascade."""
    statement = delete(Member).where(Member.telegram_id == telegram_id)
    result = await session.execute(statement.execution_options(**{AFFECTS: [telegram_id]}))
    await session.flush()
    return bool(result.rowcount)


async def member_and_role(
    session: AsyncSession,
    telegram_id: int,
    config_ids: Collection[int],
    cache: MemberCache | None = None,
) -> tuple[Member | None, bool]:
    """The member and whether they organise (runs on every update).

    From the cache when it knows the person, as a detached Member (writers below call
    `session.add` first, which attaches it without SQL). Otherwise one round trip.
    """
    configured = telegram_id in config_ids  # a frozenset from the settings: no copy
    entry = cache.get(telegram_id) if cache is not None else None
    if entry is not None:
        # Detached, with its identity: functions that change a member attach it first.
        return entry.member(), configured or entry.promoted
    if cache is not None:
        if cache.needs_directory():
            await load_directory(session, cache)
        if cache.is_stranger(telegram_id):
            return None, configured
    generation = cache.generation if cache is not None else 0
    promoted = select(Organiser.telegram_id).where(Organiser.telegram_id == telegram_id).exists()
    # One row even for a stranger: a one-row anchor, outer-joined to their member row.
    anchor = select(literal(1).label("one")).subquery()
    query = (
        select(Member, promoted)
        .select_from(anchor)
        .outerjoin(Member, Member.telegram_id == telegram_id)
    )
    member, is_promoted = (await session.execute(query)).one()
    if cache is not None:
        cache.put(telegram_id, member, bool(is_promoted), generation)
    return member, configured or bool(is_promoted)


async def load_directory(session: AsyncSession, cache: MemberCache) -> None:
    """Tell the cache who has a member row or was promoted (one query per TTL)."""
    generation = cache.generation
    query = select(Member.telegram_id).union(select(Organiser.telegram_id))
    cache.set_directory((int(row) for row in await session.scalars(query)), generation)


async def promoted_organiser_ids(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(Organiser.telegram_id)))


async def organiser_ids(session: AsyncSession, config_ids: Collection[int]) -> set[int]:
    """Every organiser: those listed in ADMIN_IDS and those promoted in the chat."""
    return set(config_ids) | await promoted_organiser_ids(session)


async def is_organiser(session: AsyncSession, telegram_id: int, config_ids: Iterable[int]) -> bool:
    """Checked on every admin action: config list first, then promoted organisers."""
    if telegram_id in set(config_ids):
        return True
    return await session.get(Organiser, telegram_id) is not None


async def count_registered(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Member).where(Member.registered_at.is_not(None))
    return int(await session.scalar(query) or 0)


async def promote_organiser(session: AsyncSession, telegram_id: int, added_by: int) -> bool:
    """Returns False when they already were an organiser."""
    if await session.get(Organiser, telegram_id) is not None:
        return False
    session.add(Organiser(telegram_id=telegram_id, added_by=added_by, added_at=utcnow()))
    await session.flush()
    return True


async def demote_organiser(session: AsyncSession, telegram_id: int) -> bool:
    statement = delete(Organiser).where(Organiser.telegram_id == telegram_id)
    result = await session.execute(statement.execution_options(**{AFFECTS: [telegram_id]}))
    await session.flush()
    return bool(result.rowcount)


async def locales_of(
    session: AsyncSession, telegram_ids: Collection[int], default: str
) -> dict[int, str]:
    """The language to write to each person in, decided in one place: a member's own
    choice, else the language an organiser who never registered last used, else `default`."""
    ids = set(telegram_ids)
    if not ids:
        return {}
    found = {tid: default for tid in ids}
    for telegram_id, locale in await session.execute(
        select(ChatLocale.chat_id, ChatLocale.locale).where(ChatLocale.chat_id.in_(ids))
    ):
        found[telegram_id] = locale
    for telegram_id, locale in await session.execute(
        select(Member.telegram_id, Member.locale).where(Member.telegram_id.in_(ids))
    ):
        if locale:
            found[telegram_id] = locale
    return found


async def remember_locale(session: AsyncSession, telegram_id: int, locale: str) -> None:
    """Note the language an organiser without a member row speaks (added to the session)."""
    row = await session.get(ChatLocale, telegram_id)
    if row is None:
        session.add(ChatLocale(chat_id=telegram_id, locale=locale, updated_at=utcnow()))
    elif row.locale != locale:
        row.locale, row.updated_at = locale, utcnow()
