"""A Cyrillic name written the way each convention writes it, and in Chinese characters.

The readers (latin.py, chinese.py) go from a spelling back to Cyrillic; these go the other
way, each from its own standard, so the two can check each other: the benchmark renders
names it never indexed in every convention and searches for them. The bot can also use
them to show a name in a member's own script.
"""

from __future__ import annotations

import unicodedata

from burials.names.chinese import table

VOWELS = "аеёиоуыэюя"
_IOTATED = {"е": "e", "ё": "o", "ю": "u", "я": "a"}


def _light_normal(word: str) -> str:
    # Rendering keeps ё (Фёдор → Fyodor); only the pre-1918 letters are modernised.
    word = unicodedata.normalize("NFC", word).lower()
    word = word.translate(str.maketrans({"ѣ": "е", "і": "и", "ѳ": "ф", "ѵ": "и"}))
    return word[:-1] if word.endswith("ъ") else word


def _soft_start(word: str, i: int) -> bool:
    """An iotated vowel sounds «y-» at the start, after a vowel or after ь/ъ."""
    return i == 0 or word[i - 1] in VOWELS or word[i - 1] in "ьъ"


def _render(word: str, letters: dict[str, str], iotated: dict[str, tuple[str, str]]) -> str:
    out: list[str] = []
    for i, char in enumerate(word):
        if char in iotated:
            initial, after_consonant = iotated[char]
            out.append(initial if _soft_start(word, i) else after_consonant)
        else:
            out.append(letters.get(char, ""))
    return "".join(out)


_COMMON = dict(zip("абвгдзиклмнопрстуф", "abvgdziklmnoprstuf", strict=True))

# BGN/PCGN as English-language papers write it: ye-/-e, yo, -iy, ' dropped.
_ENGLISH = {**_COMMON, "ж": "zh", "й": "y", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
            "щ": "shch", "ы": "y", "э": "e", "ь": "", "ъ": ""}  # fmt: skip
_ENGLISH_IOTATED = {"е": ("ye", "e"), "ё": ("yo", "yo"), "ю": ("yu", "yu"), "я": ("ya", "ya")}

# ICAO 9303 (Russian passports since 2013).
_PASSPORT = {**_COMMON, "ж": "zh", "й": "i", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
             "щ": "shch", "ы": "y", "э": "e", "ь": "", "ъ": "ie", "е": "e", "ё": "e",
             "ю": "iu", "я": "ia"}  # fmt: skip

# Duden: w for в, sch/tsch/schtsch, z for ц, ch for х, j for й and the soft vowels.
_GERMAN = {**_COMMON, "в": "w", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
           "ч": "tsch", "ш": "sch", "щ": "schtsch", "ы": "y", "э": "e", "ь": "", "ъ": ""}  # fmt: skip
_GERMAN_IOTATED = {"е": ("je", "e"), "ё": ("jo", "jo"), "ю": ("ju", "ju"), "я": ("ja", "ja")}

# The French press: ou for у, ch/tch/chtch, j for ж, kh for х, ï for й after a vowel.
_FRENCH = {**_COMMON, "у": "ou", "ж": "j", "й": "ï", "х": "kh", "ц": "ts", "ч": "tch",
           "ш": "ch", "щ": "chtch", "ы": "y", "э": "e", "ь": "", "ъ": ""}  # fmt: skip
_FRENCH_IOTATED = {"е": ("ie", "e"), "ё": ("io", "io"), "ю": ("iou", "iou"), "я": ("ia", "ia")}

# Polish spelling: w, sz/cz/szcz, ż, ch, c, j, ł; a soft consonant takes i before a vowel.
_POLISH = {**_COMMON, "в": "w", "ж": "ż", "й": "j", "л": "ł", "х": "ch", "ц": "c", "ч": "cz",
           "ш": "sz", "щ": "szcz", "ы": "y", "э": "e", "ь": "", "ъ": ""}  # fmt: skip
_POLISH_IOTATED = {"е": ("je", "ie"), "ё": ("jo", "io"), "ю": ("ju", "iu"), "я": ("ja", "ia")}

# ISO 9:1995 (GOST 7.79 system A).
_ISO9 = {**_COMMON, "е": "e", "ё": "ë", "ж": "ž", "й": "j", "х": "h", "ц": "c", "ч": "č",
         "ш": "š", "щ": "ŝ", "ъ": "ʺ", "ы": "y", "ь": "ʹ", "э": "è", "ю": "û", "я": "â"}  # fmt: skip

# The scholarly system of library catalogues (also ALA-LC's letters for ж ч ш щ).
_SCHOLARLY = {**_COMMON, "е": "e", "ё": "ë", "ж": "ž", "й": "j", "х": "ch", "ц": "c",
              "ч": "č", "ш": "š", "щ": "šč", "ъ": "ʺ", "ы": "y", "ь": "ʹ", "э": "è",
              "ю": "ju", "я": "ja"}  # fmt: skip


def _ending(word: str, latin: str, endings: dict[str, str], render) -> str:  # type: ignore[no-untyped-def]
    for cyrillic, written in endings.items():
        if word.endswith(cyrillic) and len(word) > len(cyrillic) + 1:
            return render(word[: -len(cyrillic)]) + written
    return latin


def english(word: str) -> str:
    w = _light_normal(word)

    def render(text: str) -> str:
        return _render(text, _ENGLISH, _ENGLISH_IOTATED)

    return _ending(w, render(w), {"ий": "iy", "ый": "yy", "ье": "ye"}, render)


def emigre(word: str) -> str:
    """English spelling with the endings émigré papers used: Ivanoff, Popovsky."""
    w = _light_normal(word)

    def render(text: str) -> str:
        return _render(text, _ENGLISH, _ENGLISH_IOTATED)

    endings = {"ский": "sky", "ов": "off", "ев": "eff", "ёв": "eff", "ий": "y"}
    return _ending(w, render(w), endings, render)


def passport(word: str) -> str:
    w = _light_normal(word)
    return _render(w, _PASSPORT, {})


def german(word: str) -> str:
    w = _light_normal(word)

    def render(text: str) -> str:
        out = _render(text, _GERMAN, _GERMAN_IOTATED)
        return out

    endings = {"ский": "ski", "ий": "i", "ов": "ow", "ев": "ew", "ёв": "jow"}
    return _ending(w, render(w), endings, render).replace("aa", "a")


def french(word: str) -> str:
    w = _light_normal(word)

    def render(text: str) -> str:
        out = _render(text, _FRENCH, _FRENCH_IOTATED)
        # г keeps its sound before e and i as gu; с between vowels is ss.
        for soft in ("e", "i", "y"):
            out = out.replace("g" + soft, "gu" + soft)
        return out

    endings = {"ский": "ski", "ская": "skaïa", "ий": "i", "ин": "ine", "ой": "oï"}
    return _ending(w, render(w), endings, render)


def polish(word: str) -> str:
    w = _light_normal(word)
    out: list[str] = []
    for i, char in enumerate(w):
        nxt = w[i + 1] if i + 1 < len(w) else ""
        if char == "л":
            out.append("l" if nxt in "ьеёюяи" else "ł")
        elif char == "и" and i > 0 and w[i - 1] in "жшц":
            out.append("y")
        elif char == "е" and i > 0 and w[i - 1] in "жшчщц":
            out.append("e")
        elif char in _POLISH_IOTATED:
            initial, soft = _POLISH_IOTATED[char]
            if _soft_start(w, i) and not (i > 0 and w[i - 1] == "ь"):
                out.append(initial)
            elif i > 0 and w[i - 1] == "л":
                out.append(soft[1:])  # l already soft: «Lidia»
            else:
                out.append(soft)
        else:
            out.append(_POLISH.get(char, ""))
    text = "".join(out)
    for ending, written in (("ий", "ij"), ("ый", "yj")):
        if w.endswith(ending):
            text = text[: -len(written)] + written if text.endswith(("ij", "yj")) else text
    return text


def iso9(word: str) -> str:
    return _render(_light_normal(word), _ISO9, {})


def scholarly(word: str) -> str:
    return _render(_light_normal(word), _SCHOLARLY, {})


LATIN_RENDERERS = {
    "english": english,
    "emigre": emigre,
    "passport": passport,
    "german": german,
    "french": french,
    "polish": polish,
    "iso9": iso9,
    "scholarly": scholarly,
}


# ---------------------------------------------------------------------- Chinese

_ROWS_WITH_N = {"а": "ан", "я": "ян", "е": "ен", "э": "эн", "и": "ин", "о": "он", "у": "ун"}
_ROWS_WITH_I = {"а": "ай", "у": "уй"}
_SUFFIXES_AFTER_N = ("ов", "ова", "ев", "ева", "ин", "ина", "ич", "ович", "овна", "ский", "ская")


def _cell(consonant: str, row: str, *, female: bool, initial: bool) -> str:
    forms = table().forward.get((consonant, row))
    if forms is None:
        forms = table().forward.get((consonant, ""), ("",)) + table().forward.get(("", row), ("",))
        return "".join(f for f in forms if f)
    alternate = len(forms) > 1
    if alternate and initial and consonant in ("", "в", "ф", "л", "р") and row in ("", "е"):
        return forms[1]  # 叶, 弗, 勒 begin a word
    if (
        alternate
        and female
        and row in ("а", "я", "и", "ин", "ен", "ю")
        and consonant not in ("в", "ф")
    ):
        return forms[1]
    if alternate and female and consonant == "в" and row == "а":
        return forms[1]  # -ва: 娃
    return forms[0]


def chinese(word: str, *, female: bool = False) -> str:
    """The Xinhua transcription of one Cyrillic word (a surname or a given name)."""
    w = _light_normal(word).replace("дж", "Ж")
    out: list[str] = []
    i = 0
    while i < len(w):
        char = w[i]
        if char in "ьъ":
            i += 1
            continue
        consonant = ""
        if char not in VOWELS:
            consonant = "дж" if char == "Ж" else char
            i += 1
            if i < len(w) and w[i] == "ь" and i + 1 < len(w) and w[i + 1] in "еёюяи":
                # рье → 里耶: the soft sign sounds as и before a vowel.
                out.append(_cell(consonant, "и", female=female, initial=not out))
                i += 1
                continue
            if i >= len(w) or w[i] not in VOWELS:
                if consonant == "ц" and w[i:].startswith("ов"):
                    pass  # -цов is written 佐夫 by the table's note
                else:
                    out.append(_cell(consonant, "", female=female, initial=not out))
                    continue
            if consonant == "ц" and w[i:].startswith("ов") and len(w) - i <= 3:
                out.append("佐")
                i += 1
                continue
        vowel = w[i]
        i += 1
        nxt = w[i] if i < len(w) else ""
        after = w[i + 1] if i + 1 < len(w) else ""
        after_is_vowel = bool(after) and after in VOWELS
        if (
            nxt == "н"
            and vowel in _ROWS_WITH_N
            and (not after_is_vowel or w[i + 1 :] in _SUFFIXES_AFTER_N)
        ):
            out.append(_cell(consonant, _ROWS_WITH_N[vowel], female=female, initial=not out))
            if after_is_vowel:
                continue  # н written twice: Иванов 伊万诺夫
            i += 1
            continue
        if nxt == "й" and vowel in _ROWS_WITH_I:
            out.append(_cell(consonant, _ROWS_WITH_I[vowel], female=female, initial=not out))
            i += 1
            continue
        if nxt == "й" and vowel in "ыи":
            out.append(_cell(consonant, vowel, female=female, initial=not out))
            i += 1  # -ий, -ый end as и
            continue
        out.append(_cell(consonant, vowel, female=female, initial=not out))
        if nxt == "й" and vowel in "еоэ":
            out.append("伊")
            i += 1
    return "".join(out)
