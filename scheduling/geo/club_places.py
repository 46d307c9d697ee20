"""The places the club's members come from, read from data/club_places.tsv.

geonames knows every city, but not always its conventional Russian or Simplified Chinese
name; for Harbin and the centres of its diaspora the table has the three names, checked
by hand (the file names its sources), and says which places to offer as buttons first.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "club_places.tsv"
LANGUAGES = ("en", "ru", "zh")


@dataclass(frozen=True, slots=True)
class ClubPlace:
    geonameid: int
    country: str
    featured: bool
    names: dict[str, str]  # language ('en', 'ru', 'zh') -> name


@lru_cache(maxsize=1)
def club_places() -> tuple[ClubPlace, ...]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        rows = list(csv.DictReader(lines, delimiter="\t"))
    return tuple(
        ClubPlace(
            geonameid=int(row["geonameid"]),
            country=row["country"],
            featured=row["featured"] == "1",
            names={language: row[language] for language in LANGUAGES},
        )
        for row in rows
    )


@lru_cache(maxsize=1)
def _by_id() -> dict[int, ClubPlace]:
    return {place.geonameid: place for place in club_places()}


def curated_name(geonameid: int, language: str) -> str | None:
    """The table's name of a place in 'en', 'ru' or 'zh'; None if the table lacks it."""
    place = _by_id().get(geonameid)
    return place.names.get(language) if place else None


def featured_ids(country: str) -> list[int]:
    """The country's featured places, most important first."""
    return [p.geonameid for p in club_places() if p.country == country and p.featured]


def featured_ids_all() -> list[int]:
    """Every featured place, most important first within each country."""
    return [p.geonameid for p in club_places() if p.featured]


def names_by_spelling() -> dict[str, set[int]]:
    """Every name in the table -> the places it names (for recognising typed names)."""
    index: dict[str, set[int]] = {}
    for place in club_places():
        for name in place.names.values():
            index.setdefault(name, set()).add(place.geonameid)
    return index
