"""Text typed by people, made safe to keep and to show to others."""

from __future__ import annotations

import re
import unicodedata

# Control characters (NUL among them) make a text unusable; format characters (zero-width
# spaces and joiners, direction marks) are invisible and are dropped.
_REFUSED = {"Cc", "Cs", "Co", "Cn"}
_DROPPED = {"Cf", "Zl", "Zp"}


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def person_name(text: str) -> str | None:
    """The name with its spaces collapsed and invisible characters removed, or None when
    nothing visible is left or it holds a control character (a NUL, say)."""
    if text.isprintable():  # the usual name: no control or invisible characters at all
        name = " ".join(text.split())
        return name if _LETTER_OR_DIGIT.search(name) else None
    if any(unicodedata.category(ch) in _REFUSED for ch in text if ch not in "\t\n\r"):
        return None
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    name = " ".join(visible.split())
    if not any(unicodedata.category(ch)[0] in "LN" for ch in name):
        return None  # only punctuation, symbols or spaces: not a name
    return name


_QUOTES = {"ru": ("«", "»"), "en": ("“", "”"), "zh": ("《", "》")}


def quoted(title: str, locale: str) -> str:
    """A title in the quotation marks of the reader's language: «…», “…”, 《…》."""
    opening, closing = _QUOTES.get(locale, ("“", "”"))
    return f"{opening}{title}{closing}"
