"""From a Cyrillic reading to the strings that are compared and indexed.

- `skeleton`: the reading in a small Latin alphabet where the differences the
  conventions cannot express are gone: е/э/ё are one vowel, и/й/ы one, soft and hard
  signs vanish, я is «ia» (so Татьяна, Tatiana and Tatyana meet), doubled letters are one
  (Kaufmann), and «ie» after a consonant is «e» (Grigoriev, Grigoryev, Григорьев).
  Ranking compares skeletons with an edit-distance ratio.
- `coarse_key`: the consonant classes of the skeleton, vowels dropped (an initial vowel
  is kept as «A»), voiced and voiceless paired (б/п, д/т, г/к, в/ф), all hissing sounds
  one class (з с ц ж ш щ ч), л/р one class (Chinese writes both with 尔, 拉, 列).
  This is what the index stores: a misplaced vowel, a feminine ending (-ова, -ина,
  -ская), a German «Zereteli» or a Chinese 佐 for цо all leave it unchanged.
- `chinese_view`: the skeleton with the distinctions a Chinese transcription loses
  folded together, for comparing a Chinese reading with a record.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SKELETON = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "ž",
        "з": "z",
        "и": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "щ": "šč",
        "ъ": "",
        "ы": "i",
        "ь": "",
        "э": "e",
        "ю": "iu",
        "я": "ia",
        "ё": "e",
    }
)
VOWELS = frozenset("aeiou")
_DOUBLED = re.compile(r"(.)\1+")
_GLIDE_E = re.compile(r"(?<=[^aeiou])ie")

_CLASSES = {
    "b": "P",
    "p": "P",
    "v": "V",
    "f": "V",
    "g": "K",
    "k": "K",
    "h": "H",
    "d": "T",
    "t": "T",
    "z": "S",
    "s": "S",
    "c": "S",
    "ž": "S",
    "š": "S",
    "č": "S",
    "l": "L",
    "r": "L",
    "m": "M",
    "n": "N",
}
_CHINESE_VIEW = str.maketrans(
    {
        "b": "p",
        "d": "t",
        "g": "k",
        "v": "f",
        "z": "s",
        "c": "s",
        "ž": "s",
        "š": "s",
        "č": "s",
        "r": "l",
        "h": "k",
        "o": "a",
        "u": "a",
        "e": "i",
    }
)


@lru_cache(maxsize=65536)
def skeleton(reading: str) -> str:
    """A Cyrillic reading (normal form) in the shared Latin alphabet."""
    latin = reading.translate(_SKELETON)
    latin = _DOUBLED.sub(r"\1", latin)
    latin = _GLIDE_E.sub("e", latin)
    return latin


@lru_cache(maxsize=65536)
def coarse_key(skel: str) -> str:
    """The indexed key: consonant classes, an initial vowel as «A», repeats merged."""
    out: list[str] = ["A"] if skel[:1] in VOWELS else []
    for char in skel:
        cls = _CLASSES.get(char)
        if cls is not None and (not out or out[-1] != cls):
            out.append(cls)
    return "".join(out)


@lru_cache(maxsize=65536)
def chinese_view(skel: str) -> str:
    return _DOUBLED.sub(r"\1", skel.translate(_CHINESE_VIEW))
