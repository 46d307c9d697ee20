"""The search for relatives and how a record reads, below the bot: family likeness across
scripts, memoir texts, places and years, the matching and introduction workflow on a real
database (SQLite, or PostgreSQL with TEST_DATABASE_URL), and cards in three languages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from burials import relatives
from burials.display import card_text, format_partial_date
from burials.importer import import_csv
from burials.names.family import same_family
from burials.names.words import field_words
from burials.records import add_record, set_status
from burials.seeking import WishError, memoir_fits, memoir_text, parse_years, record_fits, wanted
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head
from db.models import (
    BurialRecord,
    Member,
    Memoir,
    OutboxMessage,
    RelativeIntroduction,
    RelativeMatch,
)
from ground.i18n import Catalogs

NOW = datetime(2027, 1, 9, 12, 0, tzinfo=UTC)


def family(a: str, b: str) -> bool:
    return same_family(field_words(a), b)


@pytest.mark.parametrize(
    ("wish", "surname"),
    [
        ("Щукин", "Щукинъ"),
        ("Shchukin", "Щукина"),
        ("Chtchoukine", "Щукин"),
        ("休金", "Щукина"),
        ("Иванова", "Ivanoff"),
        ("Поповская", "Popovsky"),
        ("Shmelyoff", "Шмелёва"),
        ("Шукин", "Щукин"),  # a letter wrong
        ("Римский-Корсаков", "Римская-Корсакова"),
    ],
)
def test_one_family_in_any_script(wish: str, surname: str) -> None:
    assert family(wish, surname)


@pytest.mark.parametrize(
    ("wish", "surname"),
    [
        ("Щукин", "Сорокин"),
        ("休金", "Сорокин"),
        ("Петров", "Петровский"),
        ("Иванов", "Ксенофонтов"),
        ("Римский-Корсаков", "Корсаков"),  # a double name asks for both halves
    ],
)
def test_other_families_do_not_match(wish: str, surname: str) -> None:
    assert not family(wish, surname)


def test_years_are_checked_and_read_three_ways() -> None:
    assert parse_years("1923") == (1923, 1923)
    assert parse_years("1900 – 1950") == (1900, 1950)
    assert parse_years("1930s") == parse_years("1930-е") == parse_years("1930年代") == (1930, 1939)
    for bad in ("1923-13", "1950-1900", "soon", "0999"):
        with pytest.raises(WishError):
            parse_years(bad)


def test_a_record_contradicting_place_or_years_is_not_a_match() -> None:
    record = BurialRecord(
        surname="Щукинъ", born="1862", died="1910-03-02", cemetery="Покровское кладбище, Харбин"
    )
    assert record_fits(wanted("Shchukin", "哈尔滨"), record)  # Harbin in Chinese
    assert record_fits(wanted("Shchukin", None, (1900, 1905)), record)  # he lived then
    assert not record_fits(wanted("Shchukin", "Sydney"), record)
    assert not record_fits(wanted("Shchukin", None, (1920, 1940)), record)
    unknown = BurialRecord(surname="Щукин")  # no place, no dates: nothing contradicts
    assert record_fits(wanted("Shchukin", "Sydney", (1920, 1940)), unknown)


def memoir(**fields: object) -> Memoir:
    blank: dict[str, object] = dict.fromkeys(("title", "body", "people", "place", "year", "decade"))
    return Memoir(**{**blank, **fields})


def test_memoirs_match_declined_names_transcriptions_and_people() -> None:
    declined = memoir_text(memoir(body="Мы жили на Пристани рядом со Щукиными."))
    assert memoir_fits(wanted("Shchukin"), declined)
    assert memoir_fits(wanted("休金"), declined)
    assert not memoir_fits(wanted("Сорокин"), memoir_text(memoir(body="Сорок лет спустя.")))
    lowercase = memoir_text(memoir(body="стая волков выла за рекой"))
    assert not memoir_fits(wanted("Волков"), lowercase)  # a word, not a name
    chinese = memoir_text(memoir(body="我的祖父休金在哈尔滨工作。"))
    assert memoir_fits(wanted("Щукин"), chinese)
    people = memoir_text(memoir(body="Зимой на Сунгари.", people="Мария Шукина"))
    assert memoir_fits(wanted("Щукин"), people)  # a typo in the names list still counts
    dated = memoir_text(memoir(body="Щукины", decade=1930))
    assert memoir_fits(wanted("Щукин", None, (1935, 1940)), dated)
    assert not memoir_fits(wanted("Щукин", None, (1950, 1960)), dated)


# ---------------------------------------------------------------------- cards


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs("ru")


def test_partial_and_old_style_dates_per_language(catalogs: Catalogs) -> None:
    def t(locale: str):  # type: ignore[no-untyped-def]
        return lambda message: catalogs.gettext(message, locale=locale)

    assert format_partial_date("1923", False, "ru", t("ru")) == "1923"
    assert format_partial_date("1923-05", False, "en", t("en")) == "May 1923"
    assert format_partial_date("1923-05", False, "zh", t("zh")) == "1923年5月"
    assert format_partial_date("1910-03-02", True, "en", t("en")) == "2 March 1910 (Old Style)"
    assert "(по ст. ст.)" in format_partial_date("1910-03-02", True, "ru", t("ru"))
    assert format_partial_date("1910-03-02", True, "zh", t("zh")) == "1910年3月2日（儒略历）"
    # A Julian 29 February the Gregorian calendar has not got.
    assert format_partial_date("1900-02-29", True, "en", t("en")) == "29 February 1900 (Old Style)"


def test_a_card_shows_the_name_in_the_readers_script(catalogs: Catalogs) -> None:
    record = BurialRecord(
        surname="Щукинъ",
        given_names="Ѳеодоръ",
        patronymic="Ивановичъ",
        born="1862",
        died="1910-03-02",
        died_old_style=True,
        cemetery="Покровское кладбище, Харбин",
        section="участок 4",
    )
    ru = card_text(record, "ru", lambda m: catalogs.gettext(m, locale="ru"))
    en = card_text(record, "en", lambda m: catalogs.gettext(m, locale="en"))
    zh = card_text(record, "zh", lambda m: catalogs.gettext(m, locale="zh"))
    assert ru.splitlines()[0] == "🪦 Щукинъ Ѳеодоръ Ивановичъ" and "Shchukin" not in ru
    assert "1862 — 2 марта 1910" in ru
    assert en.splitlines()[1] == "Shchukin Feodor Ivanovich"
    assert zh.splitlines()[1] == "费奥多尔·伊万诺维奇·休金"
    assert "1862年—1910年3月2日（儒略历）" in zh
    latin = BurialRecord(surname="Chtchoukine", given_names="", patronymic="")
    guess = card_text(latin, "ru", lambda m: catalogs.gettext(m, locale="ru"))
    assert guess.splitlines()[1] == "≈ Щукин"  # read back from French: marked as a guess


def test_russian_and_chinese_plurals(catalogs: Catalogs) -> None:
    singular, plural = "Found {count} record for “{query}”.", "Found {count} records for “{query}”."

    def ru(n: int) -> str:
        return catalogs.gettext(singular, plural, n, locale="ru").format(count=n, query="Щукин")

    assert ru(1) == "По запросу «Щукин» найдена 1 запись."
    assert ru(3) == "По запросу «Щукин» найдено 3 записи."
    assert ru(5) == "По запросу «Щукин» найдено 5 записей."
    assert ru(21) == "По запросу «Щукин» найдена 21 запись."
    zh = catalogs.gettext(singular, plural, 3, locale="zh").format(count=3, query="休金")
    assert zh == "“休金”共找到 3 条记录。"


# ---------------------------------------------------------------------- the workflow


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _members(session: AsyncSession, count: int) -> list[Member]:
    members = [
        Member(telegram_id=700 + i, locale="en", name=f"M{i}", registered_at=NOW)
        for i in range(count)
    ]
    session.add_all(members)
    await session.flush()
    return members


async def _kinds(session: AsyncSession, member: Member) -> list[str]:
    rows = await session.scalars(
        select(OutboxMessage.kind)
        .where(OutboxMessage.member_id == member.id)
        .order_by(OutboxMessage.id)
    )
    return [kind.rsplit(":", 1)[0] for kind in rows]


async def test_matches_at_once_once_only_and_many_at_once_in_one_message(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as session:
        anna, bob = await _members(session, 2)
        for i in range(7):
            await add_record(session, surname="Ivanova", given_names=f"Anna{i}", status="approved")
        await add_record(session, surname="Щукин", status="approved", added_by=anna.id)
        mine = await relatives.add_wish(session, anna.id, "Щукин", now=NOW)
        assert mine.matches == 0  # her own record is not news to her
        many = await relatives.add_wish(session, anna.id, "Иванов", now=NOW)
        assert many.matches == 7
        assert await _kinds(session, anna) == ["relatives:many"]
        again = await relatives.add_wish(session, anna.id, "Ivanoff", now=NOW)
        assert again.matches == 0  # each record is told once, whichever spelling found it
        with pytest.raises(WishError):
            await relatives.add_wish(session, anna.id, "ivanoff", now=NOW)  # already listed
        # A pending record says nothing until it is approved; then only Anna hears.
        later = await add_record(session, surname="Иванова", given_names="Вера", added_by=bob.id)
        assert await relatives.match_record(session, later, NOW) == 0
        await set_status(session, later, "approved")
        assert await relatives.match_record(session, later, NOW) == 1
        assert await relatives.match_record(session, later, NOW) == 0
        assert await _kinds(session, anna) == ["relatives:many", "relatives:match"]
        # Removing the wish takes its matches with it.
        assert await relatives.remove_wish(session, anna.id, many.wish.id)
        count = await session.scalar(
            select(func.count())
            .select_from(RelativeMatch)
            .where(RelativeMatch.wish_id == many.wish.id)
        )
        assert count == 0
        await session.commit()


async def test_an_imported_list_tells_those_looking(
    factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with factory() as session:
        [anna] = await _members(session, 1)
        await relatives.add_wish(session, anna.id, "休金", now=NOW)
        await session.commit()
    sheet = tmp_path / "list.csv"
    sheet.write_text(
        "id,surname,given_names,patronymic,born,died,cemetery,section,inscription,source,"
        "latitude,longitude\n"
        "L-1,Щукинъ,Ѳеодоръ,,1862,1910-03-02 OS,Покровское,,,список,,\n"
        "L-2,Сорокин,Пётр,,,,,,,список,,\n",
        encoding="utf-8",
    )
    await import_csv(factory, sheet)
    await import_csv(factory, sheet)  # the same file again: nothing new, nobody told twice
    async with factory() as session:
        assert await _kinds(session, anna) == ["relatives:match"]


async def test_introductions_ask_both_once_and_reveal_only_after_two_yeses(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as session:
        anna, bob, carl = await _members(session, 3)
        await relatives.add_wish(session, anna.id, "Щукин", place="Харбин", now=NOW)
        added = await relatives.add_wish(session, bob.id, "Shchukina", now=NOW)
        assert added.introductions == 1
        again = await relatives.add_wish(session, bob.id, "休金", now=NOW)
        assert again.introductions == 0  # a pair is asked once
        elsewhere = await relatives.add_wish(session, carl.id, "Щукин", place="Sydney", now=NOW)
        assert elsewhere.introductions == 1  # only Bob: Anna's Harbin is not Carl's Sydney
        intro = await session.scalar(
            select(RelativeIntroduction).where(RelativeIntroduction.member_b == bob.id)
        )
        assert intro is not None and (intro.member_a, intro.member_b) == (anna.id, bob.id)
        assert await _kinds(session, anna) == ["relatives:ask"]

        anna_side = await relatives.side_of(session, intro.id, anna.id)
        assert anna_side is not None
        assert await relatives.side_of(session, intro.id, carl.id) is None  # not Carl's
        outcome = await relatives.answer(session, anna_side, True, NOW, name="Anna")
        assert outcome == relatives.WAITING
        assert not await relatives.relay(session, anna_side, "hello", NOW)  # not yet
        bob_side = await relatives.side_of(session, intro.id, bob.id)
        assert bob_side is not None
        outcome = await relatives.answer(session, bob_side, True, NOW, name="Bob", link="@bob")
        assert outcome == relatives.MET
        assert await _kinds(session, anna) == ["relatives:ask", "relatives:met"]
        # Anna has no link, so Bob may pass one message; Anna can write to Bob's link.
        assert relatives.can_relay(bob_side) and not relatives.can_relay(anna_side)
        assert await relatives.relay(session, bob_side, "Hello from Bob", NOW)
        assert not await relatives.relay(session, bob_side, "And again", NOW)
        note = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == f"relatives:note:{intro.id}")
        )
        assert note is not None and note.member_id == anna.id
        assert json.loads(note.payload or "{}") == {"text": "Hello from Bob"}

        # Carl declines Bob: Bob, who had not answered, is not told anything.
        carl_intro = await session.scalar(
            select(RelativeIntroduction).where(RelativeIntroduction.member_b == carl.id)
        )
        assert carl_intro is not None
        carl_side = await relatives.side_of(session, carl_intro.id, carl.id)
        assert carl_side is not None
        assert await relatives.answer(session, carl_side, False, NOW) == relatives.DECLINED
        assert "relatives:declined" not in await _kinds(session, bob)
        late = await relatives.side_of(session, carl_intro.id, bob.id)
        assert late is not None
        assert await relatives.answer(session, late, True, NOW, name="Bob") == relatives.DECLINED
        await session.commit()
