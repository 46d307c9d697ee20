"""Words of a name, each with the forms the index and the ranking use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from burials.names.chinese import chinese_readings
from burials.names.cyrillic import CHINESE, CYRILLIC, LATIN, cyrillic_normal, script_of
from burials.names.latin import latin_readings
from burials.names.sounds import chinese_view, coarse_key, skeleton

# Whatever separates the words of a name: spaces, commas, hyphens, dots, the Chinese
# middle dots (· • ． ・ ‧ and the full-width ones), brackets, quotes, slashes.
SEPARATORS = re.compile(r"[\s,;:.\-‐‑–—·•．・‧∙⋅/\\()\[\]{}«»\"“”„!?*+=_|<>、，。；：（）]+")

# Patronymic endings: the stem says whose child; «-ович» says nothing.
_PATRONYMIC_ENDING = re.compile(r"(?:ovič|evič|ovna|evna|ična|inična|ič)$")


@dataclass(frozen=True)
class WordForms:
    """One word of a name: its script, its skeletons (one per distinct reading) and keys."""

    text: str
    script: str
    skeletons: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def chinese(self) -> bool:
        return self.script == CHINESE

    @property
    def views(self) -> tuple[str, ...]:
        """Skeletons folded as a Chinese transcription would blur them."""
        return tuple(dict.fromkeys(chinese_view(s) for s in self.skeletons))


def readings_of(word: str, script: str) -> tuple[str, ...]:
    if script == CYRILLIC:
        normal = cyrillic_normal(word)
        return (normal,) if normal else ()
    if script == LATIN:
        return tuple(dict.fromkeys(filter(None, map(cyrillic_normal, latin_readings(word)))))
    if script == CHINESE:
        return tuple(dict.fromkeys(filter(None, map(cyrillic_normal, chinese_readings(word)))))
    return ()


@lru_cache(maxsize=131072)
def word_forms(word: str) -> WordForms | None:
    """The forms of one word, or None for a word without letters (digits, punctuation)."""
    script = script_of(word)
    if script is None:
        return None
    skeletons = tuple(dict.fromkeys(s for s in map(skeleton, readings_of(word, script)) if s))
    if not skeletons:
        return None
    keys = tuple(dict.fromkeys(k for k in map(coarse_key, skeletons) if k))
    return WordForms(word, script, skeletons, keys)


def split_words(text: str | None) -> list[str]:
    return [w for w in SEPARATORS.split(text or "") if w]


@lru_cache(maxsize=131072)
def field_words(text: str) -> tuple[WordForms, ...]:
    """The words of one name field (a surname may be double: Римский-Корсаков)."""
    return tuple(f for f in map(word_forms, split_words(text)) if f is not None)


def patronymic_stem(skel: str) -> str:
    return _PATRONYMIC_ENDING.sub("", skel) or skel
