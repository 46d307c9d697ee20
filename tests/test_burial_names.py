"""Name normalisation and matching for burial records: pure functions, no database."""

from __future__ import annotations

import pytest

from burials.dates import DateError, parse_partial_date
from burials.names import render
from burials.names.chinese import chinese_readings
from burials.names.cyrillic import cyrillic_normal
from burials.names.query import EmptyQuery, parse_query
from burials.names.ranking import NameFields, Ranker
from burials.names.words import word_forms
from burials.search import near_keys


def keys(word: str) -> set[str]:
    forms = word_forms(word)
    assert forms is not None, word
    return set(forms.keys)


def same_key(a: str, b: str) -> bool:
    return bool(keys(a) & keys(b))


def score(query: str, surname: str, given: str = "", patronymic: str = "") -> float:
    return Ranker(parse_query(query)).score(NameFields(surname, given, patronymic))


# ---------------------------------------------------------------------- Cyrillic


def test_pre_reform_letters_fold_into_modern_ones() -> None:
    assert cyrillic_normal("Ѳеодоръ") == "феодор"
    assert cyrillic_normal("Алексѣй") == "алексеи" or cyrillic_normal("Алексѣй") == "алексей"
    assert cyrillic_normal("Марія") == "мария"
    assert cyrillic_normal("Ѵпатій") == "ипатий"
    assert cyrillic_normal("Щукинъ") == "щукин"
    # A hard sign inside a word stays: it is modern spelling too.
    assert cyrillic_normal("Подъячевъ") == "подъячев"


def test_yo_is_e_and_case_does_not_matter() -> None:
    assert cyrillic_normal("Фёдор ЩУКИН") == cyrillic_normal("федор щукин")
    assert score("шмелев константин", "Шмелёв", "Константин") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("feminine", "masculine"),
    [
        ("Иванова", "Иванов"),
        ("Григорьева", "Григорьев"),
        ("Сорокина", "Сорокин"),
        ("Поповская", "Поповский"),
        ("Вяземская", "Вяземский"),
        ("Трубецкая", "Трубецкой"),
        ("Подгорецкая", "Подгорецкий"),
    ],
)
def test_feminine_surnames_share_the_masculine_key(feminine: str, masculine: str) -> None:
    assert keys(feminine) == keys(masculine)
    # The ranking still prefers the form that was asked for.
    assert score(feminine, feminine) > score(feminine, masculine) > 0.7


# ---------------------------------------------------------------------- Latin conventions


@pytest.mark.parametrize(
    "spelling",
    [
        "Shchukin",  # English, BGN/PCGN, ICAO
        "Schtschukin",  # German
        "Chtchoukine",  # French
        "Szczukin",  # Polish
        "Ščukin",  # scholarly, library catalogues
        "Ŝukin",  # ISO 9
        "Shhukin",  # GOST 7.79 B
        "SHCHUKIN",  # a register in capitals
    ],
)
def test_every_romanisation_of_shchukin_meets_the_cyrillic(spelling: str) -> None:
    assert same_key(spelling, "Щукинъ")
    assert score(f"{spelling}, Fyodor", "Щукинъ", "Ѳеодоръ") > 0.9


@pytest.mark.parametrize(
    ("spelling", "cyrillic"),
    [
        ("Ivanoff", "Иванов"),
        ("Lebedeff", "Лебедев"),
        ("Popovsky", "Поповский"),
        ("Iwanow", "Иванов"),
        ("Zereteli", "Церетели"),
        ("Chruschtschow", "Хрущёв"),
        ("Khrouchtchev", "Хрущёв"),
        ("Chruszczow", "Хрущёв"),
        ("Tschaikowski", "Чайковский"),
        ("Tchaïkovski", "Чайковский"),
        ("Czajkowski", "Чайковский"),
        ("Dombrovskaâ", "Домбровская"),
        ("Kuznetcov", "Кузнецов"),  # Russian passports 2010-2013
        ("Grigorjewa", "Григорьева"),
        ("Grigorieva", "Григорьева"),
        ("Grigoryeva", "Григорьева"),
        ("Eïkhe", "Эйхе"),
        ("Èjhe", "Эйхе"),
    ],
)
def test_latin_spellings_find_their_cyrillic_surname(spelling: str, cyrillic: str) -> None:
    assert same_key(spelling, cyrillic)
    assert score(spelling, cyrillic) >= 0.75


@pytest.mark.parametrize(
    ("spelling", "cyrillic"),
    [
        ("Fyodor", "Фёдор"),
        ("Fjodor", "Фёдор"),
        ("Fiodor", "Фёдор"),
        ("Fedor", "Фёдор"),
        ("Yevgeniy", "Евгений"),
        ("Evgenii", "Евгений"),
        ("Jewgeni", "Евгений"),
        ("Ievgueni", "Евгений"),
        ("Tatiana", "Татьяна"),
        ("Tatyana", "Татьяна"),
        ("Tatjana", "Татьяна"),
        ("Âkov", "Яков"),
        ("Iakov", "Яков"),
        ("Nadejda", "Надежда"),
        ("Paweł", "Павел"),
    ],
)
def test_given_names_across_conventions_have_one_skeleton(spelling: str, cyrillic: str) -> None:
    assert score(f"Иванов {spelling}", "Иванов", cyrillic) > 0.95


def test_upper_case_surname_comma_given_reads_either_way() -> None:
    record = ("Рабинович", "Надежда", "Петровна")
    assert score("RABINOVICH, Nadezhda", *record) > 0.95
    assert score("Nadezhda Rabinovich", *record) == pytest.approx(
        score("RABINOVICH, Nadezhda", *record)
    )


# ---------------------------------------------------------------------- Chinese


def test_chinese_transcriptions_read_back_into_russian() -> None:
    assert same_key("休金", "Щукин")
    assert "фёдор" in chinese_readings("费奥多尔")
    assert chinese_readings("伊万诺夫")[0] in ("иваннов", "иванов")
    assert "пётр" in chinese_readings("彼得")  # usage, not the table
    assert same_key("库兹涅佐娃", "Кузнецова")
    assert same_key("格里戈里耶夫", "Григорьев")
    assert same_key("列别杰夫", "Лебедев")


@pytest.mark.parametrize(
    "query",
    [
        "费奥多尔·休金",
        "费奥多尔•休金",
        "费奥多尔．休金",
        "费奥多尔 休金",
        "休金·费奥多尔",
        "休金 费奥多尔",
        "费奥多尔休金",  # no separator: every cut is tried
    ],
)
def test_chinese_name_in_either_order_with_or_without_a_dot(query: str) -> None:
    right = score(query, "Щукинъ", "Ѳеодоръ", "Ивановичъ")
    wrong_given = score(query, "Щукин", "Пётр")
    wrong_surname = score(query, "Шубин", "Фёдор")
    assert right > 0.85
    assert right > wrong_given and right > wrong_surname


def test_chinese_rendering_follows_the_xinhua_table() -> None:
    assert render.chinese("Иванов") == "伊万诺夫"  # н written twice before -ов
    assert render.chinese("Кузнецова", female=True) == "库兹涅佐娃"  # -цов as 佐, -ва as 娃
    assert render.chinese("Григорьев") == "格里戈里耶夫"
    assert render.chinese("Щукин") == "休金"
    assert render.chinese("Наталья", female=True) == "娜塔莉娅"


# ---------------------------------------------------------------------- typos and ranking


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Перенко", "Петренко"), ("Рабиович", "Рабинович"), ("Кузенцов", "Кузнецов")],
)
def test_a_typo_is_one_key_edit_away(typed: str, meant: str) -> None:
    (typed_key,) = keys(typed)
    (meant_key,) = keys(meant)
    assert typed_key == meant_key or meant_key in near_keys(typed_key)
    assert score(typed, meant) > 0.75 > score(typed, "Кузьмин")


def test_the_whole_name_ranks_not_the_first_word() -> None:
    query = "Сорокина Наталья Васильевна"
    exact = score(query, "Сорокина", "Наталья", "Васильевна")
    no_patronymic_known = score(query, "Sorokina", "Natalya")
    other_patronymic = score(query, "Сорокина", "Наталья", "Петровна")
    other_given = score(query, "Сорокина", "Нина", "Васильевна")
    other_surname = score(query, "Сорокин", "Наталья", "Васильевна")
    assert exact == pytest.approx(1.0)
    assert exact > no_patronymic_known > other_patronymic > other_given
    assert other_surname > other_given  # the surname weighs most


def test_a_year_in_the_query_prefers_the_record_with_that_year() -> None:
    ranker = Ranker(parse_query("Иван Сорокин 1923"))
    right = ranker.score(NameFields("Сорокин", "Иван", "", 1870, 1923))
    wrong = ranker.score(NameFields("Сорокин", "Иван", "", 1870, 1950))
    assert right > wrong


@pytest.mark.parametrize("text", ["", "   ", "...", "—, ·", "?!"])
def test_a_query_without_a_name_is_refused(text: str) -> None:
    with pytest.raises(EmptyQuery):
        parse_query(text)


# ---------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "iso", "old_style"),
    [
        ("1923", "1923", False),
        ("1923-05", "1923-05", False),
        ("1923-5-4", "1923-05-04", False),
        ("1900-02-29 OS", "1900-02-29", True),  # a Julian leap day
        ("1910-03-02 (ст. ст.)", "1910-03-02", True),
    ],
)
def test_partial_dates(text: str, iso: str, old_style: bool) -> None:
    date = parse_partial_date(text)
    assert date is not None and date.iso() == iso and date.old_style is old_style


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1923-13-40", "no month 13"),
        ("1923-02-30", "28 days"),
        ("1900-02-29", "28 days"),
        ("14.05.1923", "write 1923"),
        ("0999", "out of range"),
    ],
)
def test_impossible_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_partial_date(text)
    assert reason in str(caught.value)
