"""Chinese transcriptions of Russian names read back into Cyrillic.

The Xinhua table (data/xinhua_ru_zh.tsv) says which characters write each Russian
syllable. Read backwards it says which syllables a character can stand for: 夫 is в or ф,
尔 is л or р, 季 is ди or ти. Characters outside the table (a homophone chosen by a
newspaper, 吉 for 季) go through pypinyin: the syllable «ji» means what the table's own
«ji» characters mean. A name gives a few readings, the likeliest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from burials.names.sounds import chinese_view, skeleton

TABLE_PATH = Path(__file__).with_name("data") / "xinhua_ru_zh.tsv"
USAGE_PATH = Path(__file__).with_name("data") / "zh_given_names.tsv"
MAX_READINGS = 6
ALTERNATIVES_PER_SYLLABLE = 2


@dataclass(frozen=True)
class Table:
    # (consonant, row) -> characters, the usual form first ("" = no consonant / alone).
    forward: dict[tuple[str, str], tuple[str, ...]]
    # characters -> Russian fragments, the likeliest first.
    reverse: dict[str, tuple[str, ...]]
    # pinyin syllable -> Russian fragments of the table characters that sound so.
    by_pinyin: dict[str, tuple[str, ...]]
    longest: int


def _penalty(fragment: str) -> int:
    # ы after a consonant and дж are rare in names; the table lists them all the same.
    return ("ы" in fragment[1:]) * 2 + fragment.startswith("дж")


def _syllable(chars: str) -> str:
    return "".join(lazy_pinyin(chars, style=Style.NORMAL, errors="ignore"))


def load_table(path: Path = TABLE_PATH) -> Table:
    lines = [
        line.rstrip("\n").split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    columns = [c if c != "-" else "" for c in lines[0][1:]]
    forward: dict[tuple[str, str], tuple[str, ...]] = {}
    reverse: dict[str, list[str]] = {}
    for row in lines[1:]:
        ending = row[0] if row[0] != "-" else ""
        for consonant, cell in zip(columns, row[1:], strict=True):
            if cell == ".":
                continue
            forms = tuple(cell.split("|"))
            forward[(consonant, ending)] = forms
            for form in forms:
                reverse.setdefault(form, [])
                if consonant + ending not in reverse[form]:
                    reverse[form].append(consonant + ending)
    ordered = {
        chars: tuple(sorted(fragments, key=_penalty)) for chars, fragments in reverse.items()
    }
    by_pinyin: dict[str, list[str]] = {}
    for chars, fragments in ordered.items():
        if len(chars) == 1:
            for fragment in fragments:
                bucket = by_pinyin.setdefault(_syllable(chars), [])
                if fragment not in bucket:
                    bucket.append(fragment)
    return Table(
        forward=forward,
        reverse=ordered,
        by_pinyin={k: tuple(v) for k, v in by_pinyin.items()},
        longest=max(len(k) for k in ordered),
    )


# Last resort for a syllable no table character has: pinyin letters read the Russian way.
_INITIALS = [
    ("zh", "ж"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("b", "б"),
    ("p", "п"),
    ("m", "м"),
    ("f", "ф"),
    ("d", "д"),
    ("t", "т"),
    ("n", "н"),
    ("l", "л"),
    ("g", "г"),
    ("k", "к"),
    ("h", "х"),
    ("j", "к"),
    ("q", "ч"),
    ("x", "с"),
    ("r", "р"),
    ("z", "з"),
    ("c", "ц"),
    ("s", "с"),
    ("y", "й"),
    ("w", "в"),
]
_FINALS = str.maketrans({"a": "а", "o": "о", "e": "е", "i": "и", "u": "у", "v": "ю", "n": "н"})


def _spell_pinyin(syllable: str) -> str:
    for latin, cyrillic in _INITIALS:
        if syllable.startswith(latin):
            return cyrillic + syllable[len(latin) :].replace("ng", "n").translate(_FINALS)
    return syllable.replace("ng", "n").translate(_FINALS)


@lru_cache(maxsize=1)
def table() -> Table:
    return load_table()


@lru_cache(maxsize=1)
def usage_forms() -> dict[str, str]:
    """Given names in the forms Chinese usage fixed (彼得 → Пётр), Chinese → Russian."""
    forms: dict[str, str] = {}
    for line in USAGE_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            chinese, russian = line.split("\t")
            forms[chinese.strip()] = russian.strip().lower()
    return forms


def _distinct(fragments: tuple[str, ...]) -> tuple[str, ...]:
    """Drop readings a Chinese comparison cannot tell apart (в/ф, л/р, г/к, ди/ти)."""
    seen: dict[str, str] = {}
    for fragment in fragments:
        seen.setdefault(chinese_view(skeleton(fragment.replace("ё", "е"))), fragment)
    return tuple(seen.values())


def _segments(word: str) -> list[tuple[str, ...]]:
    """The word cut into table entries (longest first), each with its possible readings."""
    tab = table()
    out: list[tuple[str, ...]] = []
    i = 0
    while i < len(word):
        for size in range(min(tab.longest, len(word) - i), 0, -1):
            chars = word[i : i + size]
            if chars in tab.reverse:
                out.append(_distinct(tab.reverse[chars]))
                i += size
                break
        else:
            syllable = _syllable(word[i])
            if syllable:
                out.append(_distinct(tab.by_pinyin.get(syllable) or (_spell_pinyin(syllable),)))
            i += 1
    return out


@lru_cache(maxsize=16384)
def chinese_readings(word: str) -> tuple[str, ...]:
    """Cyrillic readings of a Chinese name (one word, no separators), likeliest first."""
    usage = usage_forms().get(word)
    beam: list[tuple[int, str]] = [(0, "")]
    for choices in _segments(word):
        widened = [
            (cost + rank, text + fragment)
            for cost, text in beam
            for rank, fragment in enumerate(choices[:ALTERNATIVES_PER_SYLLABLE])
        ]
        widened.sort(key=lambda item: item[0])
        beam = widened[:MAX_READINGS]
    seen: dict[str, None] = {usage: None} if usage else {}
    for _cost, text in beam:
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
