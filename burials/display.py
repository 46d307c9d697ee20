"""How a burial record reads to a person: the name as the source wrote it and in the
reader's own script, partial dates in their language, the cemetery, the inscription.

Used by the bot's cards and by the notices the outbox sends, so both read alike. The
caller passes `t`, a translation function already bound to the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from babel.dates import format_skeleton

from burials.names import render
from burials.names.chinese import chinese_readings
from burials.names.cyrillic import CHINESE, CYRILLIC, LATIN, cyrillic_normal, script_of
from burials.names.latin import latin_readings
from db.models import BurialRecord
from ground.i18n import N_

Translate = Callable[[str], str]

# The script each language's readers read names in.
READER_SCRIPT = {"ru": CYRILLIC, "en": LATIN, "zh": CHINESE}
# International English: «2 March 1910», not «March 2, 1910».
_BABEL_LOCALE = {"en": "en_001"}
INSCRIPTION_PREVIEW = 300
_WORD_OR_GAP = re.compile(r"([^\s\-]+)")

OLD_STYLE = N_("{date} (Old Style)")
LIFESPAN = N_("{born} – {died}")
BORN_ONLY = N_("born {date}")
DIED_ONLY = N_("died {date}")
INSCRIPTION = N_("Inscription: “{text}”")
APPROXIMATE = N_("≈ {name}")


# ---------------------------------------------------------------------- dates


def _babel(locale: str) -> str:
    return _BABEL_LOCALE.get(locale, locale)


def format_partial_date(stored: str | None, old_style: bool, locale: str, t: Translate) -> str:
    """«1923», «май 1923 г.», «2 March 1910 (Old Style)», «1910年3月2日（儒略历）»; "" if unknown.

    An Old Style day that the Gregorian calendar lacks (29 February 1900) is formatted
    through a leap year with the same month and day, then given its own year back.
    """
    if not stored:
        return ""
    parts = [int(p) for p in stored.split("-")]
    year, month, day = [*parts, 0, 0][:3]
    loc = _babel(locale)
    if not month:
        text = format_skeleton("y", date(year, 1, 1), locale=loc)
    elif not day:
        text = format_skeleton("yMMMM", date(year, month, 1), locale=loc)
    else:
        try:
            text = format_skeleton("yMMMMd", date(year, month, day), locale=loc)
        except ValueError:
            text = format_skeleton("yMMMMd", date(2000, month, day), locale=loc)
            text = text.replace("2000", str(year))
    return t(OLD_STYLE).format(date=text) if old_style else text


def lifespan(record: BurialRecord, locale: str, t: Translate) -> str:
    born = format_partial_date(record.born, record.born_old_style, locale, t)
    died = format_partial_date(record.died, record.died_old_style, locale, t)
    if born and died:
        return t(LIFESPAN).format(born=born, died=died)
    if born:
        return t(BORN_ONLY).format(date=born)
    if died:
        return t(DIED_ONLY).format(date=died)
    return ""


# ---------------------------------------------------------------------- names


def name_as_written(record: BurialRecord) -> str:
    return " ".join(p for p in (record.surname, record.given_names, record.patronymic) if p)


def _is_female(record: BurialRecord) -> bool:
    """For the Chinese transcription, which writes women's syllables with other characters."""
    given = cyrillic_normal(record.given_names.split(" ")[0]) if record.given_names else ""
    patronymic = cyrillic_normal(record.patronymic)
    surname = cyrillic_normal(record.surname)
    if patronymic:
        return patronymic.endswith("на")
    if given:
        return given.endswith(("а", "я")) and given not in ("илья", "никита", "фома", "кузьма")
    return surname.endswith(("ова", "ева", "ина", "ая"))


@lru_cache(maxsize=4096)
def _to_cyrillic(word: str) -> tuple[str, bool] | None:
    """A Cyrillic reading of the word, and whether it is certain (only Cyrillic is).

    Reading Latin or Chinese back is a guess (ch is ч, ш or х; 金 is кин or гин). The
    guess is a reading that writes the word again exactly in some convention, the
    shortest of them (it took «tch» for one letter, not three); failing that, the first.
    """
    script = script_of(word)
    if script == CYRILLIC:
        return word, True
    if script == LATIN:
        readings = latin_readings(word)
        wanted = word.casefold()
        again = [
            r for r in readings if any(c(r) == wanted for c in render.LATIN_RENDERERS.values())
        ]
    elif script == CHINESE:
        readings = chinese_readings(word)
        again = [r for r in readings if word in (render.chinese(r), render.chinese(r, female=True))]
    else:
        return None
    if again:
        # Ties: a final «ai»/«oi» is «ай»/«ой» far more often than «аи».
        return min(again, key=lambda r: (len(r), not r.endswith("й"))), False
    return (readings[0], False) if readings else None


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def _word_in(word: str, target: str, female: bool) -> tuple[str, bool]:
    script = script_of(word)
    if script is None or script == target:
        return word, True
    found = _to_cyrillic(word)
    if found is None:
        return word, True
    cyrillic, exact = found
    if target == CYRILLIC:
        return _capitalised(cyrillic.lower()), exact
    if target == LATIN:
        return _capitalised(render.english(cyrillic)), exact
    return render.chinese(cyrillic, female=female), exact


def _field_in(text: str, target: str, female: bool) -> tuple[str, bool]:
    exact = True
    out: list[str] = []
    for piece in _WORD_OR_GAP.split(text):
        if _WORD_OR_GAP.fullmatch(piece):
            written, sure = _word_in(piece, target, female)
            exact = exact and sure
            out.append(written)
        else:
            out.append("-" if "-" in piece else (" " if piece else ""))
    return "".join(out).strip(), exact


def name_for_reader(record: BurialRecord, locale: str, t: Translate) -> str | None:
    """The name in the reader's script when the source used another one; else None.

    Russian readers get Cyrillic, English readers the English transliteration, Chinese
    readers the Xinhua transcription in Chinese order (given names · surname). A name
    read back from Latin or Chinese is marked «≈»: that direction is a guess.
    """
    target = READER_SCRIPT.get(locale, LATIN)
    fields = [record.surname, record.given_names, record.patronymic]
    if all(script_of(word) in (None, target) for f in fields for word in f.split()):
        return None
    female = _is_female(record)
    converted = [_field_in(f, target, female) if f else ("", True) for f in fields]
    exact = all(sure for _text, sure in converted)
    surname, given, patronymic = (text for text, _sure in converted)
    if target == CHINESE:
        name = "·".join(p for p in (given.replace(" ", "·"), patronymic, surname) if p)
    else:
        name = " ".join(p for p in (surname, given, patronymic) if p)
    if not name or name == name_as_written(record):
        return None
    return name if exact else t(APPROXIMATE).format(name=name)


# ---------------------------------------------------------------------- the card


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_lines(record: BurialRecord, locale: str, t: Translate) -> list[str]:
    """The record as a few short lines, in the reader's language."""
    lines = ["🪦 " + (name_as_written(record) or "—")]
    other = name_for_reader(record, locale, t)
    if other:
        lines.append(other)
    span = lifespan(record, locale, t)
    if span:
        lines.append(span)
    place = " · ".join(p for p in (record.cemetery, record.section) if p)
    if place:
        lines.append("📍 " + place)
    if record.inscription:
        lines.append(t(INSCRIPTION).format(text=_clip(record.inscription, INSCRIPTION_PREVIEW)))
    return lines


def card_text(record: BurialRecord, locale: str, t: Translate) -> str:
    return "\n".join(card_lines(record, locale, t))
