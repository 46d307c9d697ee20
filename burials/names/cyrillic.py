"""The Cyrillic normal form every reading ends in, and a word's script.

Pre-1918 spelling is folded into modern letters (ѣ→е, і→и, ѳ→ф, ѵ→и, a hard sign at
the end of a word dropped), ё is written е (as most lists do), and case is ignored, so
«Ѳеодоръ Щукинъ» and «федор щукин» have one form.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "ѣ": "е",
        "і": "и",
        "ї": "и",
        "ѳ": "ф",
        "ѵ": "и",
        "ё": "е",
        "ѐ": "е",
        "ѝ": "и",
        "є": "е",  # Ukrainian letters, so a Ukrainian spelling still meets its Russian form
        "ґ": "г",
        "ў": "у",
    }
)
_FINAL_HARD_SIGN = re.compile(r"ъ+(?=$|[^а-яё])")
_NOT_CYRILLIC_LETTER = re.compile(r"[^а-я]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]")

CYRILLIC = "cyrillic"
LATIN = "latin"
CHINESE = "chinese"


def script_of(word: str) -> str | None:
    """Which script a word is written in; None for a word with no letters at all."""
    if _HAN.search(word):
        return CHINESE
    if _CYRILLIC.search(word):
        return CYRILLIC
    if _LATIN_LETTER.search(word):
        return LATIN
    return None


def cyrillic_normal(text: str) -> str:
    """Lower case, pre-reform letters mapped, ё→е, word-final ъ dropped, letters only."""
    text = unicodedata.normalize("NFC", text).lower()
    # й and ё are single code points after NFC; a stray combining breve is dropped below.
    text = text.translate(_FOLD)
    text = _FINAL_HARD_SIGN.sub("", text)
    return _NOT_CYRILLIC_LETTER.sub("", text)
