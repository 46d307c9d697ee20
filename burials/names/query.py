"""A search query: the words of a name (in any order and script) and any years."""

from __future__ import annotations

import re
from dataclasses import dataclass

from burials.names.chinese import usage_forms
from burials.names.cyrillic import CHINESE, script_of
from burials.names.words import WordForms, split_words, word_forms

MAX_NAME_WORDS = 4
MIN_YEAR, MAX_YEAR = 1000, 2200
# A Chinese name written without a dot («费奥多尔休金») is tried cut at every point.
MIN_CHINESE_RUN_TO_CUT = 4
_YEAR = re.compile(r"^(\d{4})$")


class EmptyQuery(ValueError):
    """The query holds no name: nothing to look for."""


@dataclass(frozen=True)
class Query:
    text: str
    # Ways to read the name; usually one. Each is a list of words.
    readings: tuple[tuple[WordForms, ...], ...]
    years: tuple[int, ...]

    def keys(self) -> set[str]:
        return {key for reading in self.readings for word in reading for key in word.keys}


def parse_query(text: str) -> Query:
    words: list[WordForms] = []
    years: list[int] = []
    for token in split_words(text):
        year = _YEAR.match(token)
        if year and MIN_YEAR <= int(year.group(1)) <= MAX_YEAR:
            years.append(int(year.group(1)))
            continue
        forms = word_forms(token)
        if forms is not None:
            words.append(forms)
    if not words and not years:
        raise EmptyQuery(text)
    words = words[:MAX_NAME_WORDS]
    readings: list[tuple[WordForms, ...]] = [tuple(words)]
    if len(words) == 1 and script_of(words[0].text) == CHINESE:
        run = words[0].text
        if len(run) >= MIN_CHINESE_RUN_TO_CUT:
            for left, right in _cuts(run):
                left_forms, right_forms = word_forms(left), word_forms(right)
                if left_forms is not None and right_forms is not None:
                    readings.append((left_forms, right_forms))
    return Query(text, tuple(readings), tuple(years))


def _cuts(run: str) -> list[tuple[str, str]]:
    """Where a Chinese name without a dot may divide: after or before a given name in its
    usual form (彼得, 娜塔莉娅) if one is there, else at every point."""
    usage = usage_forms()
    known = [
        (run[:cut], run[cut:])
        for cut in range(2, len(run) - 1)
        if run[:cut] in usage or run[cut:] in usage
    ]
    return known or [(run[:cut], run[cut:]) for cut in range(2, len(run) - 1)]
