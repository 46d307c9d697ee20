"""How well a record's name answers a query: the whole name, not its first word.

Each query word is given to at most one of the record's fields (surname, given names,
patronymic), whichever way scores best, so the order of the words does not matter
(«Иван Сорокин», «Сорокин Иван», «SOROKIN, Ivan»). A field scores the edit-distance
ratio of the closest skeletons (a Chinese word is compared in the Chinese view), less
what two unrelated names share by chance. The
surname weighs most, then the given name, then the patronymic (compared by its stem:
-ович says nothing). A field the record lacks counts as a half-likely match, so a list
that never recorded patronymics is not pushed below every wrong patronymic. The total is
divided by what the same number of words would get for a perfect match. Years in the
query add a little for a birth or death year that agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from rapidfuzz.fuzz import ratio

from burials.names.query import Query
from burials.names.words import WordForms, field_words, patronymic_stem

SURNAME, GIVEN, PATRONYMIC = 0, 1, 2
WEIGHTS = (1.0, 0.6, 0.3)
# The best possible total for 1, 2, 3 and 4 words.
_BEST = (0.0, 1.0, 1.6, 1.9, 1.9)
MISSING_FIELD = 0.7
# Two unrelated names still share letters (Нина and Наталья score 0.55); below this ratio a
# field counts as no match at all, and above it the credit rises linearly to 1.
CHANCE = 0.4
YEAR_MATCH = 0.05
YEAR_NEAR = 0.02  # one year off: Old Style dates around New Year, or a careless list


@dataclass(frozen=True)
class NameFields:
    surname: str
    given_names: str
    patronymic: str
    born_year: int | None = None
    died_year: int | None = None


def _word_similarity(query_word: WordForms, field: tuple[WordForms, ...], stems: bool) -> float:
    best = 0.0
    for record_word in field:
        if query_word.chinese:
            ours, theirs = query_word.views, record_word.views
        else:
            ours, theirs = query_word.skeletons, record_word.skeletons
        if stems:
            ours = tuple(patronymic_stem(s) for s in ours)
            theirs = tuple(patronymic_stem(s) for s in theirs)
        for a in ours:
            for b in theirs:
                score = ratio(a, b)
                if score > best:
                    best = score
                    if best == 100.0:
                        return 1.0
    return max(0.0, (best / 100.0 - CHANCE) / (1.0 - CHANCE))


def _plans(words: int) -> list[tuple[tuple[int, int, float], ...]]:
    """Every way to give the query's words to distinct fields: (word, field, weight)."""
    if words <= 3:
        return [
            tuple((p, slot, WEIGHTS[slot]) for p, slot in enumerate(slots))
            for slots in permutations(range(3), words)
        ]
    return [
        tuple((p, slot, WEIGHTS[slot]) for slot, p in enumerate(chosen))
        for chosen in permutations(range(words), 3)
    ]


class Ranker:
    """Scores records against one query; remembers field comparisons across records
    (a hundred candidates share a handful of surnames)."""

    def __init__(self, query: Query) -> None:
        self.query = query
        # memo[reading][word][field]: field text -> similarity
        self._memo: list[list[list[dict[str, float]]]] = [
            [[{}, {}, {}] for _word in reading] for reading in query.readings
        ]
        self._plans = [_plans(len(reading)) for reading in query.readings]
        self._best = [_BEST[min(len(reading), 4)] for reading in query.readings]

    def _similarity(self, reading: int, position: int, slot: int, text: str) -> float:
        memo = self._memo[reading][position][slot]
        cached = memo.get(text)
        if cached is None:
            field = field_words(text)
            if not field:
                cached = MISSING_FIELD
            else:
                word = self.query.readings[reading][position]
                cached = _word_similarity(word, field, stems=slot == PATRONYMIC)
            memo[text] = cached
        return cached

    def name_score(self, fields: NameFields) -> float:
        texts = (fields.surname, fields.given_names, fields.patronymic)
        best = 0.0
        similarity = self._similarity
        for index, words in enumerate(self.query.readings):
            if not words:
                continue
            sims = [
                [similarity(index, p, slot, texts[slot]) for slot in range(3)]
                for p in range(len(words))
            ]
            top = max(sum(w * sims[p][slot] for p, slot, w in plan) for plan in self._plans[index])
            best = max(best, top / self._best[index])
        return best

    def score(self, fields: NameFields) -> float:
        score = self.name_score(fields) if any(self.query.readings[0]) else 0.0
        for year in self.query.years:
            dates = [y for y in (fields.born_year, fields.died_year) if y is not None]
            if year in dates:
                score += YEAR_MATCH
            elif any(abs(year - d) == 1 for d in dates):
                score += YEAR_NEAR
        return score
