"""Whether two surnames name one family, whatever script or spelling wrote them.

The search ranks whole names; a relative looking for a family needs a yes or no about
the surname alone, and a family includes its women: Иванов and Иванова, Поповский and
Поповская, Shmelev and Shmelyova are one family.

- Cyrillic and Latin: the words must share a coarse sound key (what the index stores,
  so a letter of another class, Ильин against Жилин, is another family), and their
  skeletons (sounds.py), with feminine endings folded into masculine ones, must be
  alike (0.65 or more: a slip within one class, Шукин for Щукин, still counts).
- Chinese: a transcription blurs too much for likeness (茹科夫 is Жуков, yet its
  folded sounds equal Сухов's), so a Chinese word must sound, syllable by syllable in
  pinyin, like the Xinhua transcription of the other word's family (its men's or its
  women's form, 休金 or 休金娜): homophones chosen by a newspaper still count.

Measured on bench/burials.py's 148 held-out families, each written in every Latin
convention of render.py and in Chinese, men's and women's forms (2,812 spellings): 4
are missed (German «suew» for Зуев, French «choults» for Шульц: the readers do not
undo them), and of 87,024 pairs of different families one is taken for one family
(Шестаков and «chistyakov», Чистяков, one vowel apart).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz.fuzz import ratio

from burials.names.render import chinese as transcribe
from burials.names.sounds import chinese_view
from burials.names.words import WordForms, field_words, readings_of

SAME_FAMILY = 0.65
# Two unrelated names share letters by chance; below this ratio there is no likeness.
CHANCE = 0.4

# Feminine endings in skeleton letters, and the masculine form they fold into.
_FEMININE = re.compile(r"(?:(?<=v)a|(?<=in)a|aia)$")
_FEMININE_FORMS = {"aia": "ii"}


def family_skeleton(skel: str) -> str:
    """«ivanova» → «ivanov», «popovskaia» → «popovskii», «sorokina» → «sorokin»."""
    match = _FEMININE.search(skel)
    if match is None or len(skel) - len(match.group()) < 3:
        return skel
    return skel[: match.start()] + _FEMININE_FORMS.get(match.group(), "")


@lru_cache(maxsize=65536)
def _forms(word: WordForms) -> tuple[str, ...]:
    skeletons = tuple(dict.fromkeys(family_skeleton(s) for s in word.skeletons))
    if word.chinese:
        return tuple(dict.fromkeys(chinese_view(s) for s in skeletons))
    return skeletons


def _view(word: WordForms, chinese: bool) -> tuple[str, ...]:
    forms = _forms(word)
    if chinese and not word.chinese:
        return tuple(dict.fromkeys(chinese_view(s) for s in forms))
    return forms


def word_likeness(a: WordForms, b: WordForms) -> float:
    """0 (unrelated) … 1 (the same family name)."""
    chinese = a.chinese or b.chinese
    best = max(ratio(x, y) for x in _view(a, chinese) for y in _view(b, chinese))
    return max(0.0, (best / 100.0 - CHANCE) / (1.0 - CHANCE))


def _both_forms(reading: str) -> set[str]:
    """A Cyrillic surname's men's and women's forms: щукина → {щукин, щукина}, толстая →
    {толстая, толстой, толстый, толстий}: which one is the men's the ending cannot say."""
    forms = {reading}
    stem2 = reading[:-2]
    if len(reading) < 4:
        return forms
    if reading.endswith("ая"):
        forms.update(stem2 + ending for ending in ("ий", "ой", "ый"))
    elif reading.endswith(("ий", "ой", "ый")):
        forms.add(stem2 + "ая")
    elif reading.endswith(("ова", "ева", "ёва", "ина", "ына")):
        forms.add(reading[:-1])
    elif reading.endswith(("ов", "ев", "ёв", "ин", "ын")):
        forms.add(reading + "а")
    return forms


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))


@lru_cache(maxsize=16384)
def chinese_sounds(word: WordForms) -> frozenset[str]:
    """The pinyin of how Chinese writes the word's family (and of the word, if Chinese)."""
    sounds = {_pinyin(word.text)} if word.chinese else set()
    readings = set(readings_of(word.text, word.script))
    if not word.chinese:
        readings.add(word.text.lower())  # keeps ё, which the transcription writes apart
    for reading in readings:
        for form in _both_forms(reading):
            sounds.update(_pinyin(transcribe(form, female=f)) for f in (False, True))
    return frozenset(s for s in sounds if s)


def same_family_word(a: WordForms, b: WordForms) -> bool:
    if a.chinese or b.chinese:
        return bool(chinese_sounds(a) & chinese_sounds(b))
    if not set(a.keys) & set(b.keys):
        return False
    return word_likeness(a, b) >= SAME_FAMILY


def same_family(wanted: tuple[WordForms, ...], surname: str) -> bool:
    """Every word of the wanted surname has a partner in `surname` (a double surname
    such as Римский-Корсаков asks for both halves)."""
    words = field_words(surname)
    if not wanted or not words:
        return False
    return all(any(same_family_word(w, s) for s in words) for w in wanted)


def surname_keys(surname: str) -> set[str]:
    """The coarse keys of a surname's words, as `burial_name_keys` stores them (kind s).
    A feminine ending is a vowel, so it never changes a key."""
    return {key for word in field_words(surname) for key in word.keys}
