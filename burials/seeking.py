"""What a member looks for, and whether a burial record, a memoir or another member's
wish answers it. Pure functions over names; the database work is in relatives.py.

A wish is a surname in any script, maybe a place and years. It answers:
- a burial record whose surname is of the same family (names/family.py: any script or
  spelling, feminine forms, typos of a letter), unless the record contradicts the place
  (its cemetery, section and inscription name another place) or the years (its known
  dates fall outside them): what the record does not say does not count against it;
- a memoir whose «people» field names the family (compared as names, like a record's
  surname), or whose title or text has a capitalised word that is the surname in any
  case ending (Щукиных, Shchukins, Поповского) or, in Chinese, its transcription;
- another member's wish for the same family, unless places or years contradict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from burials.names import render
from burials.names.cyrillic import CHINESE, script_of
from burials.names.family import family_skeleton, same_family, same_family_word, word_likeness
from burials.names.sounds import chinese_view
from burials.names.words import WordForms, field_words, readings_of, split_words
from db.models import BurialRecord, Memoir
from ground.i18n import N_

MIN_YEAR, MAX_YEAR = 1000, 2200
# A place word «is» a word of the record's place at this likeness (Harbin, Харбин, 哈尔滨).
SAME_PLACE = 0.8
# Case endings a surname takes in running text: -ых, -ими, -ого.
MAX_ENDING = 3
MIN_STEM = 3
_VOWELS = "aeiou"
_CYRILLIC_VOWELS = "аеиоуыэюяйь"
_YEAR_RANGE = re.compile(r"^(\d{4})\s*(?:-|–|—|\.\.|to|до|по|至|到)\s*(\d{4})$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})\s*(?:г\.?|год|年)?$")
_DECADE = re.compile(r"^(\d{3}0)\s*(?:s|'s|-?е|-?х|-?ые|年代)$", re.IGNORECASE)


class WishError(ValueError):
    """A wish that cannot be kept; `message` is translatable with `{placeholders}`."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))


def parse_years(text: str) -> tuple[int, int]:
    """«1923» → (1923, 1923); «1900-1950» → (1900, 1950); «1930s»/«1930-е» → (1930, 1939)."""
    value = " ".join(text.strip().replace("’", "'").split())
    if match := _YEAR_RANGE.match(value):
        first, last = int(match.group(1)), int(match.group(2))
    elif match := _YEAR.match(value):
        first = last = int(match.group(1))
    elif match := _DECADE.match(value):
        first, last = int(match.group(1)), int(match.group(1)) + 9
    else:
        raise WishError(N_("«{value}» is not a year: write 1923, 1900-1950 or 1930s"), value=value)
    if not (MIN_YEAR <= first <= MAX_YEAR and MIN_YEAR <= last <= MAX_YEAR):
        raise WishError(N_("«{value}» is not a year: the year is out of range"), value=value)
    if last < first:
        raise WishError(N_("«{value}»: the first year comes after the last"), value=value)
    return first, last


# ---------------------------------------------------------------------- a wish, read


@dataclass(frozen=True)
class Wanted:
    """A wish read for matching: the surname's words, the place's words, the years."""

    surname: str
    words: tuple[WordForms, ...]
    place_words: tuple[WordForms, ...] = ()
    years: tuple[int, int] | None = None


def wanted(surname: str, place: str | None = None, years: tuple[int, int] | None = None) -> Wanted:
    return Wanted(surname, field_words(surname), field_words(place or ""), years)


def _overlaps(years: tuple[int, int] | None, first: int | None, last: int | None) -> bool:
    """Unknown years never contradict; known ones must meet the wish's (a year's slack:
    Old and New Style around New Year, careless lists)."""
    if years is None or first is None or last is None:
        return True
    return first <= years[1] + 1 and last >= years[0] - 1


def _place_words(texts: tuple[str | None, ...]) -> tuple[WordForms, ...]:
    return field_words(" ".join(t for t in texts if t))


def _place_fits(place: tuple[WordForms, ...], texts: tuple[str | None, ...]) -> bool:
    if not place:
        return True
    words = _place_words(texts)
    if not words:
        return True  # the source does not say where: not a contradiction
    return any(word_likeness(p, w) >= SAME_PLACE for p in place for w in words)


def record_fits(want: Wanted, record: BurialRecord) -> bool:
    if not same_family(want.words, record.surname):
        return False
    years = [int(d[:4]) for d in (record.born, record.died) if d]
    first, last = (min(years), max(years)) if years else (None, None)
    if not _overlaps(want.years, first, last):
        return False
    return _place_fits(want.place_words, (record.cemetery, record.section, record.inscription))


def wishes_meet(a: Wanted, b: Wanted) -> bool:
    """Two members look for one family (places and years, where both gave them, agree)."""
    if not same_family(a.words, b.surname):
        return False
    if a.years and b.years and not _overlaps(a.years, *b.years):
        return False
    if a.place_words and b.place_words:
        return any(word_likeness(p, q) >= SAME_PLACE for p in a.place_words for q in b.place_words)
    return True


# ---------------------------------------------------------------------- memoirs


def _skeleton_stem(skel: str) -> str:
    """«popovskii» → «popovsk», «ivanov» → «ivanov», «ševčenko» → «ševčenk»."""
    stem = family_skeleton(skel)
    while len(stem) > MIN_STEM and stem[-1] in _VOWELS:
        stem = stem[:-1]
    return stem


@lru_cache(maxsize=4096)
def _stems(word: WordForms) -> tuple[tuple[str, ...], bool]:
    """The word's stems (in the Chinese view for a Chinese word) and whether it is Chinese."""
    stems = {_skeleton_stem(s) for s in word.skeletons}
    if word.chinese:
        stems = {chinese_view(s) for s in stems}
    return tuple(sorted(stems)), word.chinese


def _declined(text_skeleton: str, stem: str) -> bool:
    if not text_skeleton.startswith(stem):
        return False
    ending = len(text_skeleton) - len(stem)
    return ending == 0 if len(stem) < MIN_STEM else ending <= MAX_ENDING


@lru_cache(maxsize=4096)
def chinese_forms(word: WordForms) -> tuple[str, ...]:
    """How Chinese writes the word: itself if Chinese, else the Xinhua transcription of each
    of its readings (men's and women's characters)."""
    if word.chinese:
        return (word.text,)
    forms: set[str] = set()
    for reading in readings_of(word.text, word.script):
        forms.update((render.chinese(reading), render.chinese(reading, female=True)))
    return tuple(sorted(f for f in forms if len(f) >= 2))


@dataclass(frozen=True)
class MemoirText:
    """A memoir's words read once, to test many wishes against it."""

    people: tuple[WordForms, ...]
    capitalised: tuple[WordForms, ...]
    chinese: str
    place: tuple[WordForms, ...]
    years: tuple[int, int] | None


def memoir_text(memoir: Memoir) -> MemoirText:
    running = "\n".join(p for p in (memoir.title, memoir.body, memoir.people) if p)
    capitalised: dict[str, WordForms] = {}
    chinese: list[str] = []
    for token in split_words(running):
        script = script_of(token)
        if script == CHINESE:
            chinese.append(token)
        elif script is not None and token[:1].isupper() and token not in capitalised:
            forms = field_words(token)
            if forms:
                capitalised[token] = forms[0]
    if memoir.year:
        years: tuple[int, int] | None = (memoir.year, memoir.year)
    elif memoir.decade:
        years = (memoir.decade, memoir.decade + 9)
    else:
        years = None
    return MemoirText(
        people=field_words(memoir.people or ""),
        capitalised=tuple(capitalised.values()),
        chinese="\n".join(chinese),
        place=_place_words((memoir.place, memoir.title, memoir.body)),
        years=years,
    )


def _mentioned(word: WordForms, text: MemoirText) -> bool:
    if any(same_family_word(word, p) for p in text.people):
        return True
    if text.chinese and any(form in text.chinese for form in chinese_forms(word)):
        return True
    stems, chinese = _stems(word)
    for other in text.capitalised:
        skeletons = other.views if chinese else other.skeletons
        if any(_declined(s, stem) for s in skeletons for stem in stems):
            return True
    return False


def memoir_fits(want: Wanted, text: MemoirText) -> bool:
    if not want.words or not all(_mentioned(w, text) for w in want.words):
        return False
    if not _overlaps(want.years, *(text.years or (None, None))):
        return False
    if want.place_words and text.place:
        return any(word_likeness(p, w) >= SAME_PLACE for p in want.place_words for w in text.place)
    return True


def like_patterns(want: Wanted) -> list[str]:
    """Lower-case fragments one of which a memoir's search text must hold to be read at all
    (`Memoir.search_text` is casefolded, ё→е): the surname's stem in Cyrillic and in each
    Latin convention, and its Chinese transcriptions."""
    patterns: set[str] = set()
    for word in want.words:
        patterns.update(chinese_forms(word))
        patterns.add(word.text.casefold().rstrip(_VOWELS + "y"))
        for reading in readings_of(word.text, word.script):
            stem = reading
            while len(stem) > MIN_STEM and stem[-1] in _CYRILLIC_VOWELS:
                stem = stem[:-1]
            patterns.add(stem)
            for convention in render.LATIN_RENDERERS.values():
                latin = convention(stem)
                if len(latin) >= MIN_STEM:
                    patterns.add(latin.casefold())
    return sorted(p for p in patterns if len(p) >= 2)
