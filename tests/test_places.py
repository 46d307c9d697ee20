import re
from datetime import UTC, datetime

import pytest

from scheduling.geo import club_places
from scheduling.geo.localtime import get_zone
from scheduling.geo.places import (
    CLUB_COUNTRIES,
    FEATURED_PLACES,
    MAX_MATCHES,
    OffsetNotAZone,
    PlaceMatch,
    canonical_zone,
    city_label,
    country_name,
    country_short_name,
    country_zones,
    distinct_zones,
    featured_places,
    fixed_offset_zone,
    is_fixed_zone,
    is_valid_zone,
    more_places,
    nearest_place,
    place_by_id,
    place_name,
    resolve_city,
    resolve_country,
    with_country,
    with_offset,
    zone_country,
    zone_for_location,
    zone_label,
    zone_label_with_offset,
)

JANUARY = datetime(2027, 1, 15, 12, tzinfo=UTC)
JULY = datetime(2027, 7, 15, 12, tzinfo=UTC)


# --- cities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "country", "zone"),
    [
        ("Харбин", "Harbin", "CN", "Asia/Shanghai"),
        ("Harbin", "Harbin", "CN", "Asia/Shanghai"),
        ("哈尔滨", "Harbin", "CN", "Asia/Shanghai"),
        ("哈爾濱", "Harbin", "CN", "Asia/Shanghai"),
        ("哈尔滨市", "Harbin", "CN", "Asia/Shanghai"),
        ("Сидней", "Sydney", "AU", "Australia/Sydney"),
        ("Нью-Йорк", "New York City", "US", "America/New_York"),
        ("нью йорк", "New York City", "US", "America/New_York"),
        ("New York", "New York City", "US", "America/New_York"),
        ("纽约", "New York City", "US", "America/New_York"),  # only via CLDR: geonames has 紐約
        ("Владивосток", "Vladivostok", "RU", "Asia/Vladivostok"),
        ("海参崴", "Vladivostok", "RU", "Asia/Vladivostok"),
        ("Москва", "Moscow", "RU", "Europe/Moscow"),
        ("г. Москва", "Moscow", "RU", "Europe/Moscow"),
        ("Санкт-Петербург", "Saint Petersburg", "RU", "Europe/Moscow"),
        ("Питер", "Saint Petersburg", "RU", "Europe/Moscow"),
        ("Berlin", "Berlin", "DE", "Europe/Berlin"),
        ("Берлин", "Berlin", "DE", "Europe/Berlin"),
        ("柏林", "Berlin", "DE", "Europe/Berlin"),
        ("Лос-Анджелес", "Los Angeles", "US", "America/Los_Angeles"),
        ("Новосибирск", "Novosibirsk", "RU", "Asia/Novosibirsk"),
        ("Мельбурн", "Melbourne", "AU", "Australia/Melbourne"),
        ("Тель-Авив", "Tel Aviv", "IL", "Asia/Jerusalem"),
        ("Алматы", "Almaty", "KZ", "Asia/Almaty"),
        ("Zurich", "Zürich", "CH", "Europe/Zurich"),
    ],
)
def test_resolve_city_in_three_languages(typed: str, name: str, country: str, zone: str) -> None:
    best = resolve_city(typed)[0]
    assert (best.name, best.country, best.zone) == (name, country, zone)
    assert best.population > 0


def test_resolve_city_is_case_and_yo_insensitive() -> None:
    assert resolve_city("  ХАРБИН ")[0].zone == "Asia/Shanghai"
    assert resolve_city("Королёв")[0] == resolve_city("королев")[0]


def test_ambiguous_city_offers_each_zone_once() -> None:
    vancouver = [m.zone for m in resolve_city("Vancouver")]
    assert vancouver == ["America/Vancouver", "America/Los_Angeles"]  # biggest first
    springfield = [m.zone for m in resolve_city("Springfield")]
    assert len(springfield) == len(set(springfield)) > 1

    portland = [m.zone for m in resolve_city("Portland")]
    assert portland[:2] == ["America/Los_Angeles", "America/New_York"]


def test_places_far_smaller_than_the_best_are_not_offered() -> None:
    # Sydney, Nova Scotia has a fiftieth of Sydney's people: not offered to a stranger...
    assert [m.zone for m in resolve_city("Sydney")] == ["Australia/Sydney"]
    # ...nor Los Angeles in Spain and Chile to a member in Russia.
    assert [(m.country, m.zone) for m in resolve_city("los angeles", "RU")] == [
        ("US", "America/Los_Angeles")
    ]


def test_own_country_weighs_but_does_not_outrank_a_capital() -> None:
    """A member in the USA typing «Москва» means Moscow first, Moscow, Idaho second."""
    assert [m.country for m in resolve_city("Москва", "US")] == ["RU", "US"]
    assert [m.country for m in resolve_city("Moscow")] == ["RU"]


def test_member_country_ranks_first() -> None:
    assert resolve_city("Sydney", "CA")[0].zone == "America/Glace_Bay"
    assert resolve_city("Мельбурн", "us")[0].zone == "America/New_York"
    assert resolve_city("Мельбурн", "AU")[0].zone == "Australia/Melbourne"


def test_results_are_capped() -> None:
    assert 1 < len(resolve_city("Springfield")) <= MAX_MATCHES


def test_iana_zone_name_is_accepted_in_any_case() -> None:
    (match,) = resolve_city("europe/berlin")
    assert (match.zone, match.country, match.name) == ("Europe/Berlin", "DE", "Berlin")
    (legacy,) = resolve_city("Asia/Harbin")  # backward-compatible link stays usable
    assert legacy.zone == "Asia/Harbin"
    assert legacy.country == "CN"


@pytest.mark.parametrize(
    "typed", ["", "   ", "qwertyuiop", "Абырвалг", "Nowhere/Atlantis", "UTC", "UTC+3", "Etc/GMT-3"]
)
def test_unknown_text_and_fixed_offsets_give_nothing(typed: str) -> None:
    assert resolve_city(typed) == []


def test_distinct_zones_keeps_first_per_zone() -> None:
    a = PlaceMatch("A", "US", "America/New_York", 10)
    b = PlaceMatch("B", "US", "America/New_York", 20)
    c = PlaceMatch("C", "US", "America/Chicago", 5)
    assert distinct_zones([a, b, c]) == [a, c]


# --- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "ru", "en", "zh"),
    [
        ("Harbin", "Харбин", "Harbin", "哈尔滨"),
        ("哈尔滨", "Харбин", "Harbin", "哈尔滨"),
        ("New York", "Нью-Йорк", "New York", "纽约"),  # the club's table
        ("Saint Petersburg", "Санкт-Петербург", "Saint Petersburg", "圣彼得堡"),
        ("Sydney", "Сидней", "Sydney", "悉尼"),
        ("Berlin", "Берлин", "Berlin", "柏林"),
        ("Dalian", "Далянь", "Dalian", "大连"),
        ("Kazan", "Казань", "Kazan", "喀山"),
    ],
)
def test_city_label_in_three_languages(typed: str, ru: str, en: str, zh: str) -> None:
    match = resolve_city(typed)[0]
    assert city_label(match, "ru") == ru
    assert city_label(match, "en") == en
    assert city_label(match, "zh") == zh


def test_city_label_prefers_what_the_member_typed() -> None:
    match = resolve_city("哈爾濱")[0]
    assert city_label(match, "zh") == "哈爾濱"
    assert city_label(match, "ru") == "Харбин"


def test_zone_label_in_three_languages() -> None:
    assert zone_label("Asia/Vladivostok", "ru") == "Владивосток"
    assert zone_label("Asia/Vladivostok", "en") == "Vladivostok"
    # CLDR 47 uses the traditional Chinese name; older CLDR had the transliteration.
    assert zone_label("Asia/Vladivostok", "zh") in {"海参崴", "符拉迪沃斯托克"}
    assert zone_label("Australia/Sydney", "zh") == "悉尼"
    assert zone_label("America/New_York", "ru") == "Нью-Йорк"


def test_zone_label_falls_back_to_zone_name() -> None:
    assert zone_label("Nowhere/Some_Place", "ru") == "Some Place"


def test_zone_label_with_offset_follows_dst() -> None:
    assert zone_label_with_offset("Asia/Vladivostok", "ru", JANUARY) == "Владивосток (UTC+10)"
    assert zone_label_with_offset("Australia/Sydney", "en", JANUARY) == "Sydney (UTC+11)"
    assert zone_label_with_offset("Australia/Sydney", "en", JULY) == "Sydney (UTC+10)"
    assert zone_label_with_offset("Asia/Kolkata", "en", JULY) == "Kolkata (UTC+5:30)"


# --- countries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Россия", "RU"),
        ("РФ", "RU"),
        ("russia", "RU"),
        ("俄罗斯", "RU"),
        ("Китай", "CN"),
        ("China", "CN"),
        ("中国", "CN"),
        ("USA", "US"),
        ("США", "US"),
        ("美国", "US"),
        ("美國", "US"),
        ("United States", "US"),
        ("Соединённые Штаты", "US"),
        ("Германия", "DE"),
        ("germany", "DE"),
        ("德国", "DE"),
        ("UK", "GB"),
        ("Великобритания", "GB"),
        ("Австралия", "AU"),
        ("澳大利亚", "AU"),
        ("Казахстан", "KZ"),
        ("Япония", "JP"),
        ("日本", "JP"),
        ("Канада", "CA"),
        ("Израиль", "IL"),
        ("以色列", "IL"),
        ("ru", "RU"),
        ("DEU", "DE"),
        ("Герм", "DE"),  # unique prefix
    ],
)
def test_resolve_country(typed: str, code: str) -> None:
    assert resolve_country(typed) == [code]


@pytest.mark.parametrize("typed", ["", "Ав", "Конго", "Atlantis", "x"])
def test_resolve_country_ambiguous_or_unknown(typed: str) -> None:
    assert resolve_country(typed) == []


def test_country_name_translations() -> None:
    assert [country_name(c, "ru") for c in ("RU", "CN", "DE")] == ["Россия", "Китай", "Германия"]
    assert [country_name(c, "en") for c in ("RU", "CN", "DE")] == ["Russia", "China", "Germany"]
    assert [country_name(c, "zh") for c in ("RU", "CN", "DE")] == ["俄罗斯", "中国", "德国"]
    assert all(country_name(c, "ru") != c for c in CLUB_COUNTRIES)


# --- zones -----------------------------------------------------------------------------------


def _offsets(zones: list[str], at: datetime) -> list[float]:
    return [at.astimezone(get_zone(z)).utcoffset().total_seconds() for z in zones]


@pytest.mark.parametrize("at", [JANUARY, JULY])
def test_russian_zones_west_to_east(at: datetime) -> None:
    zones = country_zones("RU", at)
    assert zones[0] == "Europe/Kaliningrad"
    assert zones[-2:] == ["Asia/Anadyr", "Asia/Kamchatka"]  # both UTC+12, then by name
    assert _offsets(zones, at) == sorted(_offsets(zones, at))
    assert zones.index("Europe/Moscow") < zones.index("Asia/Novosibirsk")
    assert zones.index("Asia/Novosibirsk") < zones.index("Asia/Vladivostok")


def test_us_zones_west_to_east_follow_dst() -> None:
    winter, summer = country_zones("us", JANUARY), country_zones("US", JULY)
    assert winter[:2] == ["America/Adak", "Pacific/Honolulu"]  # both UTC−10 in winter
    assert summer[:2] == ["Pacific/Honolulu", "America/Adak"]  # Adak is UTC−9 in summer
    assert winter[-1] == summer[-1] == "America/New_York"
    for at, zones in ((JANUARY, winter), (JULY, summer)):
        assert _offsets(zones, at) == sorted(_offsets(zones, at))
    assert country_zones("XX") == []


def test_zone_validation() -> None:
    assert is_valid_zone("Europe/Berlin")
    assert not is_valid_zone("europe/berlin")
    assert not is_valid_zone("")
    assert canonical_zone(" europe/berlin ") == "Europe/Berlin"
    assert canonical_zone("AMERICA/NEW_YORK") == "America/New_York"
    assert canonical_zone("Europe/Atlantis") is None
    assert zone_country("Europe/Berlin") == "DE"
    assert zone_country("Asia/Harbin") == "CN"
    assert zone_country("UTC") is None


def test_zone_for_location() -> None:
    assert zone_for_location(45.75, 126.65) == "Asia/Shanghai"  # Harbin
    assert zone_for_location(-33.87, 151.21) == "Australia/Sydney"
    assert zone_for_location(55.75, 37.62) == "Europe/Moscow"


@pytest.mark.parametrize(("lat", "lon"), [(0.0, -30.0), (-40.0, -140.0), (0.0, 0.0)])
def test_zone_for_location_at_sea_is_none(lat: float, lon: float) -> None:
    assert zone_for_location(lat, lon) is None


# --- UTC offsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("UTC", "Etc/UTC"),
        ("gmt", "Etc/UTC"),
        ("UTC+0", "Etc/UTC"),
        ("UTC+3", "Etc/GMT-3"),  # IANA's sign is inverted: three hours ahead is GMT-3
        ("utc +3", "Etc/GMT-3"),
        ("GMT-5", "Etc/GMT+5"),
        ("UTC−8", "Etc/GMT+8"),  # the typographic minus
        ("UTC+05:00", "Etc/GMT-5"),
        ("UTC+14", "Etc/GMT-14"),
        ("Etc/GMT-3", "Etc/GMT-3"),
        ("etc/utc", "Etc/UTC"),
    ],
)
def test_fixed_offsets_become_etc_zones(typed: str, zone: str) -> None:
    assert fixed_offset_zone(typed) == zone
    assert is_fixed_zone(zone) and is_valid_zone(zone)


def test_fixed_offset_zone_keeps_the_offset_as_typed() -> None:
    assert JANUARY.astimezone(get_zone(fixed_offset_zone("UTC+3"))).utcoffset().seconds == 3 * 3600
    assert fixed_offset_zone("Harbin") is None
    assert fixed_offset_zone("Europe/Berlin") is None


@pytest.mark.parametrize("typed", ["UTC+5:30", "UTC+15", "GMT-13"])
def test_offsets_no_zone_keeps_are_refused(typed: str) -> None:
    with pytest.raises(OffsetNotAZone):
        fixed_offset_zone(typed)


def test_fixed_zones_are_named_by_their_offset() -> None:
    assert zone_label("Etc/GMT-3", "ru") == "UTC+3"  # not Babel's «GMT-3»
    assert zone_label("Etc/GMT+5", "zh") == "UTC−5"
    assert zone_label("Etc/UTC", "en") == "UTC"
    assert zone_label_with_offset("Etc/GMT-3", "en", JANUARY) == "UTC+3"


# --- typography ------------------------------------------------------------------------------


def test_chinese_labels_use_full_width_brackets_and_commas() -> None:
    assert zone_label_with_offset("Australia/Sydney", "zh", JANUARY) == "悉尼（UTC+11）"
    assert with_offset("哈尔滨", "UTC+8", "zh") == "哈尔滨（UTC+8）"
    assert with_country("莫斯科", "俄罗斯", "zh") == "莫斯科，俄罗斯"
    assert with_country("Москва", "Россия", "ru") == "Москва, Россия"


def test_country_buttons_use_short_names() -> None:
    assert country_short_name("US", "ru") == "США"
    assert country_short_name("US", "en") == "United States"
    assert country_short_name("CN", "zh") == "中国"


# --- the club's places -----------------------------------------------------------------------


def test_every_club_place_is_known_to_geonames_with_names_in_each_script() -> None:
    table = club_places.club_places()
    assert len(table) > 40
    for entry in table:
        match = place_by_id(entry.geonameid)
        assert match is not None, entry
        assert match.country == entry.country, entry
        assert re.fullmatch(r"[A-Za-z .\-']+", entry.names["en"]), entry
        assert re.fullmatch(r"[А-Яа-яЁё\-]+", entry.names["ru"]), entry
        assert re.fullmatch(r"[\u4e00-\u9fff]+", entry.names["zh"]), entry
        entry.names["zh"].encode("gb2312")  # Simplified characters only


@pytest.mark.parametrize(
    ("typed", "ru", "zh"),
    [
        ("Beijing", "Пекин", "北京"),  # geonames guesses «Пекинг»
        ("Blagoveshchensk", "Благовещенск", "布拉戈维申斯克"),
        ("Seattle", "Сиэтл", "西雅图"),  # geonames has only «西雅圖»
        ("Hamburg", "Гамбург", "汉堡"),
        ("Khabarovsk", "Хабаровск", "哈巴罗夫斯克"),
        ("Irkutsk", "Иркутск", "伊尔库茨克"),
    ],
)
def test_club_places_have_their_conventional_names(typed: str, ru: str, zh: str) -> None:
    match = resolve_city(typed)[0]
    assert (place_name(match, "ru"), place_name(match, "zh")) == (ru, zh)


@pytest.mark.parametrize(("typed", "name"), [("西雅图", "Seattle"), ("伊尔库茨克", "Irkutsk")])
def test_the_tables_spellings_are_recognised_when_typed(typed: str, name: str) -> None:
    assert resolve_city(typed)[0].name == name


def test_featured_places_are_where_the_club_lives() -> None:
    russia = [m.name for m in featured_places("RU", JANUARY)]
    assert {"Moscow", "Saint Petersburg", "Novosibirsk", "Irkutsk", "Khabarovsk"} <= set(russia)
    assert "Vladivostok" in russia
    usa = [m.name for m in featured_places("US", JANUARY)]
    assert {"New York City", "Los Angeles", "San Francisco", "Chicago"} <= set(usa)
    assert "Adak" not in usa
    china = [m.name for m in featured_places("CN", JANUARY)]
    assert china[china.index("Harbin") :][:4] == ["Harbin", "Shanghai", "Beijing", "Dalian"]
    for featured in (russia, usa, china):
        assert len(featured) <= FEATURED_PLACES


@pytest.mark.parametrize("country", ["RU", "US", "AU", "CN", "IL"])
def test_more_places_cover_every_other_zone_west_to_east(country: str) -> None:
    first = featured_places(country, JANUARY)
    more = more_places(country, JANUARY)
    assert {m.zone for m in first} | {m.zone for m in more} == set(country_zones(country))
    assert not {m.zone for m in first} & {m.zone for m in more}
    assert _offsets([m.zone for m in more], JANUARY) == sorted(
        _offsets([m.zone for m in more], JANUARY)
    )


# --- a shared location -----------------------------------------------------------------------


def test_a_location_names_the_city_there_not_the_zones_city() -> None:
    harbin = nearest_place(45.75, 126.65, "Asia/Shanghai")
    assert harbin is not None and harbin.name == "Harbin"
    assert place_name(harbin, "zh") == "哈尔滨" and place_name(harbin, "ru") == "Харбин"
    sydney = nearest_place(-33.87, 151.21, "Australia/Sydney")
    assert sydney is not None and sydney.name == "Sydney"
    # Between a suburb and the capital, nearer the capital: the capital.
    moscow = nearest_place(55.80, 37.50, "Europe/Moscow")
    assert moscow is not None and moscow.name == "Moscow"


def test_a_location_far_from_any_city_names_none() -> None:
    assert nearest_place(-25.0, 131.0, "Australia/Darwin") is None  # the middle of Australia
