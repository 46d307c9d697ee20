"""Latin spellings read back into Cyrillic, once per romanisation convention.

A Latin word does not say which convention wrote it: «ch» is ч in English, ш in French
and х in German or Polish. So each word is read by every convention below, and the
distinct Cyrillic readings are all kept; the matcher later takes the one that fits.

Conventions (what each reading undoes):
- english: BGN/PCGN and everyday English (Shchukin, Fyodor, Yevgeniy, Dmitry), the
  émigré endings -off/-eff and -sky, and ALA-LC library forms without diacritics;
- passport: ICAO 9303 as in Russian passports since 2013 (Iulia, Evgenii, Tatiana),
  and the 2010-2013 passport «tc» for ц;
- german: Duden (Schtschukin, Tschaikowski, Jewgeni, Zereteli, Iwanow);
- french: the French press (Chtchoukine, Tchaïkovski, Ievgueni, Nadejda, Pouchkine);
- polish: Polish spelling (Szczukin, Czajkowski, Paweł, Grigorjew, Rabinowicz);
- scholarly: ISO 9:1995 / GOST 7.79 (Ŝukin, Âkov), the scholarly system and ALA-LC with
  diacritics (Ščukin, Ëlkin, Evgenij, Mariâ), GOST 7.79 system B (Shhukin).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

VOWELS = frozenset("aeiouyàáâäãåèéêëìíîïòóôöõùúûüÿąęėěīōūǎ")

Cond = Callable[[str, int, int], bool]  # (word, start, end) -> applies here?


def _initial(word: str, start: int, end: int) -> bool:
    return start == 0


def _final(word: str, start: int, end: int) -> bool:
    return end == len(word)


def _after_vowel(word: str, start: int, end: int) -> bool:
    return start > 0 and word[start - 1] in VOWELS


def _after_consonant(word: str, start: int, end: int) -> bool:
    return start > 0 and word[start - 1] not in VOWELS


def _before_vowel(word: str, start: int, end: int) -> bool:
    return end < len(word) and word[end] in VOWELS


def _before_front_vowel(word: str, start: int, end: int) -> bool:
    return end < len(word) and word[end] in "eiyéèêëïî"


def _between_vowels(word: str, start: int, end: int) -> bool:
    return _after_vowel(word, start, end) and _before_vowel(word, start, end)


def _final_after_consonant(word: str, start: int, end: int) -> bool:
    return _final(word, start, end) and _after_consonant(word, start, end)


Rule = tuple[str, str, Cond | None]

# Endings shared by the English, German and French habits of émigré spellings.
_EMIGRE: list[Rule] = [
    ("off", "ов", _final),
    ("eff", "ев", _final),
    ("ieff", "ьев", _final),
    ("skiy", "ский", _final),
    ("skii", "ский", _final),
    ("skij", "ский", _final),
    ("sky", "ский", _final),
    ("ski", "ский", _final),
]

ENGLISH: list[Rule] = [
    *_EMIGRE,
    ("shch", "щ", None),
    ("sch", "щ", None),
    ("zh", "ж", None),
    ("kh", "х", None),
    ("ts", "ц", None),
    ("tz", "ц", None),
    ("ch", "ч", None),
    ("sh", "ш", None),
    ("ph", "ф", None),
    ("yu", "ю", None),
    ("ya", "я", None),
    ("ye", "е", None),
    ("yo", "ё", None),
    ("yë", "ё", None),
    ("iy", "ий", None),
    ("yy", "ый", None),
    ("y", "ий", _final_after_consonant),
    ("y", "й", _after_vowel),
    ("y", "й", _before_vowel),
    ("y", "ы", None),
    ("ĭ", "й", None),
    ("ė", "э", None),
    ("x", "кс", None),
    ("c", "к", None),
    ("q", "к", None),
    ("w", "в", None),
    ("j", "й", None),
]

PASSPORT: list[Rule] = [
    ("shch", "щ", None),
    ("zh", "ж", None),
    ("kh", "х", None),
    ("ts", "ц", None),
    ("tc", "ц", None),
    ("ch", "ч", None),
    ("sh", "ш", None),
    ("iu", "ю", None),
    ("ia", "я", None),
    ("ie", "ъе", _after_consonant),
    ("ie", "е", _initial),
    ("y", "ы", None),
    ("x", "кс", None),
    ("c", "к", None),
    ("w", "в", None),
    ("j", "й", None),
]

GERMAN: list[Rule] = [
    ("ow", "ов", _final),
    ("ew", "ев", _final),
    ("owa", "ова", _final),
    ("ewa", "ева", _final),
    ("skij", "ский", _final),
    ("ski", "ский", _final),
    ("schtsch", "щ", None),
    ("stsch", "щ", None),
    ("tsch", "ч", None),
    ("dsch", "дж", None),
    ("sch", "ш", None),
    ("ch", "х", None),
    ("tz", "ц", None),
    ("z", "ц", None),
    ("ss", "с", None),
    ("ß", "с", None),
    ("ja", "я", None),
    ("ju", "ю", None),
    ("je", "е", None),
    ("jo", "ё", None),
    ("ij", "ий", _final),
    ("j", "й", None),
    ("y", "ы", None),
    ("ä", "э", None),
    ("ö", "ё", None),
    ("ü", "ю", None),
    ("x", "кс", None),
    ("c", "к", None),
    ("w", "в", None),
]

FRENCH: list[Rule] = [
    ("ine", "ин", _final),
    ("off", "ов", _final),
    ("eff", "ев", _final),
    ("ski", "ский", _final),
    ("chtch", "щ", None),
    ("tch", "ч", None),
    ("dj", "дж", None),
    ("ch", "ш", None),
    ("kh", "х", None),
    ("j", "ж", None),
    ("iou", "ю", None),
    ("ou", "у", None),
    ("ia", "я", None),
    ("io", "ё", None),
    ("ie", "е", None),
    ("gu", "г", _before_front_vowel),
    ("qu", "к", None),
    ("ss", "с", None),
    ("s", "з", _between_vowels),
    ("c", "с", _before_front_vowel),
    ("c", "к", None),
    ("aï", "ай", None),
    ("eï", "ей", None),
    ("oï", "ой", None),
    ("ï", "й", None),
    ("ÿ", "й", None),
    ("y", "й", _after_vowel),
    ("y", "ы", None),
    ("é", "е", None),
    ("è", "е", None),
    ("ê", "е", None),
    ("ë", "е", None),
    ("x", "кс", None),
    ("w", "в", None),
]

POLISH: list[Rule] = [
    ("szcz", "щ", None),
    ("sz", "ш", None),
    ("cz", "ч", None),
    ("dż", "дж", None),
    ("rz", "ж", None),
    ("ż", "ж", None),
    ("ź", "зь", None),
    ("ś", "сь", None),
    ("ć", "ць", None),
    ("ń", "нь", None),
    ("ł", "л", None),
    ("ch", "х", None),
    ("ja", "я", None),
    ("je", "е", None),
    ("ju", "ю", None),
    ("jo", "ё", None),
    ("ia", "ья", _after_consonant),
    ("ie", "ье", _after_consonant),
    ("iu", "ью", _after_consonant),
    ("io", "ьё", _after_consonant),
    ("ij", "ий", None),
    ("j", "й", None),
    ("c", "ц", None),
    ("w", "в", None),
    ("y", "ы", None),
    ("ó", "о", None),
    ("ą", "он", None),
    ("ę", "ен", None),
    ("x", "кс", None),
    ("q", "к", None),
]

SCHOLARLY: list[Rule] = [
    ("šč", "щ", None),
    ("shh", "щ", None),
    ("ŝ", "щ", None),
    ("š", "ш", None),
    ("č", "ч", None),
    ("ž", "ж", None),
    ("sh", "ш", None),
    ("ch", "ч", None),
    ("zh", "ж", None),
    ("cz", "ц", None),
    ("x", "х", None),
    ("c", "ц", None),
    ("â", "я", None),
    ("û", "ю", None),
    ("ô", "ё", None),
    ("ja", "я", None),
    ("ju", "ю", None),
    ("jo", "ё", None),
    ("ya", "я", None),
    ("yu", "ю", None),
    ("yo", "ё", None),
    ("ë", "ё", None),
    ("è", "э", None),
    ("ė", "э", None),
    ("ě", "е", None),
    ("ì", "и", None),
    ("ĭ", "й", None),
    ("j", "й", None),
    ("y", "ы", None),
    ("w", "в", None),
]

CONVENTIONS: dict[str, Sequence[Rule]] = {
    "english": ENGLISH,
    "passport": PASSPORT,
    "german": GERMAN,
    "french": FRENCH,
    "polish": POLISH,
    "scholarly": SCHOLARLY,
}

# What every convention agrees on; a rule above wins where it says otherwise.
_BASE = {
    "a": "а",
    "b": "б",
    "v": "в",
    "g": "г",
    "d": "д",
    "e": "е",
    "z": "з",
    "i": "и",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "f": "ф",
    "h": "х",
    # Letters with one meaning in every convention that uses them.
    "š": "ш",
    "č": "ч",
    "ž": "ж",
    "ŝ": "щ",
    "ł": "л",
    "ë": "ё",
    "'": "ь",
    "ʹ": "ь",
    "ʼ": "ь",
    "’": "ь",
    "ʺ": "ъ",
    '"': "ъ",
}
_SOFT_MARKS = str.maketrans({"\u0361": None, "\ufe20": None, "\ufe21": None})


def _compile(rules: Sequence[Rule]) -> dict[str, list[tuple[int, str, Cond | None]]]:
    # Index by first letter; longest spelling first, the listed order among equals.
    index: dict[str, list[tuple[int, str, Cond | None]]] = {}
    for order, (latin, cyrillic, cond) in enumerate(rules):
        index.setdefault(latin[0], []).append((len(latin) * 1000 - order, latin, cond))
        index[latin[0]][-1] = (len(latin) * 1000 - order, latin + "\0" + cyrillic, cond)
    return {first: sorted(entries, key=lambda entry: -entry[0]) for first, entries in index.items()}


_COMPILED = {name: _compile(rules) for name, rules in CONVENTIONS.items()}


def _base_letter(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def read_with(convention: str, word: str) -> str:
    """One convention's Cyrillic reading of a lower-case Latin word."""
    index = _COMPILED[convention]
    out: list[str] = []
    i = 0
    while i < len(word):
        for _weight, packed, cond in index.get(word[i], ()):
            latin, cyrillic = packed.split("\0")
            end = i + len(latin)
            if word.startswith(latin, i) and (cond is None or cond(word, i, end)):
                out.append(cyrillic)
                i = end
                break
        else:
            char = word[i]
            mapped = _BASE.get(char)
            if mapped is None:
                base = _base_letter(char)
                mapped = "".join(_BASE.get(c, "") for c in base)
            out.append(mapped)
            i += 1
    return "".join(out)


def prepare(word: str) -> str:
    """Lower case, composed, without the tie marks of ALA-LC (i͡a → ia)."""
    return unicodedata.normalize("NFC", word.translate(_SOFT_MARKS)).lower()


@lru_cache(maxsize=65536)
def latin_readings(word: str) -> tuple[str, ...]:
    """Every convention's Cyrillic reading of a Latin word, distinct, in convention order."""
    prepared = prepare(word)
    seen: dict[str, None] = {}
    for convention in CONVENTIONS:
        reading = read_with(convention, prepared)
        if reading:
            seen.setdefault(reading, None)
    return tuple(seen)
