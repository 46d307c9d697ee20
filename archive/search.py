"""The memoir search index: one text per memoir that both databases index as words.

A memoir's `search_text` is its *search document*: the words of its title, text, place,
people, theme, author, year and captions, casefolded, ё written е, accents dropped from
Latin letters, punctuation gone, and every Chinese (or Japanese, Korean) character a word
of its own, all separated by single spaces. Chinese is written without spaces, so a word
cannot be found inside it by any word tokenizer; as single characters it can, by asking
for them side by side (a phrase).

The database indexes that text (migration 0010): SQLite with FTS5 (unicode61), kept in
step by triggers on `memoirs`; PostgreSQL with a GIN index on a generated column
`search_vector = to_tsvector('simple', search_text)`.
A query matches a memoir when every Latin or Cyrillic word of it starts a word of the
memoir (so «Харбин» finds «Харбине», "school" finds "schools") and every run of Chinese
characters occurs in it as written (哈尔滨 finds 哈尔滨市, not 哈 … 尔滨). PostgreSQL
checks the run with LIKE on the spaced text after the index found memoirs having every
character: exact whatever the length (tsvector positions stop at 16,383).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, and_, column, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SEARCH_INDEX_TABLE, MediaFile, Memoir

# Raised whenever the document's rules change: rows written before are rewritten.
SEARCH_VERSION = 1
MAX_WORD = 64  # longer "words" (a pasted link) are cut: PostgreSQL skips words over 2 KB
MAX_QUERY_TERMS = 12
_CJK = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_TOKEN = re.compile(rf"([{_CJK}])|[^\W_{_CJK}]+")


def _fold(text: str) -> str:
    """Compatibility forms (full-width digits), case, ё→е, accents off Latin letters."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    decomposed = unicodedata.normalize("NFD", text)
    kept: list[str] = []
    base_is_latin = False
    for char in decomposed:
        if unicodedata.combining(char):
            if base_is_latin:
                continue  # é → e; but й keeps its breve (its base is Cyrillic)
        else:
            base_is_latin = char < "\u0250" and char.isalpha()
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@dataclass(frozen=True)
class Token:
    text: str
    cjk: bool
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    folded = _fold(text)
    return [
        Token(m.group()[:MAX_WORD], m.group(1) is not None, m.start(), m.end())
        for m in _TOKEN.finditer(folded)
    ]


def document(parts: Iterable[str | None]) -> str:
    """The search document of these texts (see the module's docstring)."""
    words = [t.text for part in parts if part for t in tokens(part)]
    return " ".join(words)


def memoir_document(memoir: Memoir, captions: Sequence[str | None] = ()) -> str:
    return document(
        [
            memoir.title,
            memoir.body,
            memoir.place,
            memoir.people,
            memoir.theme,
            memoir.author_name,
            str(memoir.year) if memoir.year else None,
            *captions,
        ]
    )


def write_document(memoir: Memoir, captions: Sequence[str | None] = ()) -> None:
    memoir.search_text = memoir_document(memoir, captions)
    memoir.search_version = SEARCH_VERSION


def append_to_document(memoir: Memoir, text: str) -> None:
    """A caption added to a memoir whose document is current."""
    extra = document([text])
    if extra:
        memoir.search_text = f"{memoir.search_text} {extra}".strip()


# ---------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """What a person typed, as index terms: word prefixes and runs of Chinese characters."""

    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)


def parse_query(text: str | None) -> Query:
    """Words and character runs; one-letter words are dropped beside longer terms (they
    would match nearly every memoir), duplicates once, at most MAX_QUERY_TERMS terms."""
    found = tokens(text or "")
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    run: list[Token] = []

    def close_run() -> None:
        if run:
            phrase = tuple(t.text for t in run)
            if phrase not in phrases:
                phrases.append(phrase)
            run.clear()

    for token in found:
        if token.cjk:
            if run and run[-1].end != token.start:
                close_run()  # a space or a comma between: two separate runs
            run.append(token)
            continue
        close_run()
        if token.text not in words:
            words.append(token.text)
    close_run()
    if len(words) + len(phrases) > 1:
        words = [w for w in words if len(w) > 1] or words
    return Query(tuple(words[:MAX_QUERY_TERMS]), tuple(phrases[:MAX_QUERY_TERMS]))


def _fts5_expression(query: Query) -> str:
    # Terms hold only letters and digits; quoting keeps FTS5 from reading any as syntax.
    terms = [f'"{w}"*' for w in query.words]
    terms += ['"' + " ".join(p) + '"' for p in query.phrases]
    return " AND ".join(terms)


def _tsquery(query: Query) -> str:
    terms = [f"'{w}':*" for w in query.words]
    terms += [f"'{char}'" for phrase in query.phrases for char in dict.fromkeys(phrase)]
    return " & ".join(terms)


def matches(dialect: str, query: Query) -> ColumnElement[bool]:
    """A WHERE clause on `Memoir` that keeps the memoirs matching `query` (non-empty)."""
    if dialect == "sqlite":
        index = (
            select(column("rowid", Integer))
            .select_from(text(SEARCH_INDEX_TABLE))
            .where(literal_column(SEARCH_INDEX_TABLE).op("MATCH")(_fts5_expression(query)))
        )
        return Memoir.id.in_(index)
    vector = literal_column("memoirs.search_vector")  # to_tsvector('simple', search_text)
    found = vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), _tsquery(query)))
    exact = [
        Memoir.search_text.like("%" + " ".join(phrase) + "%")
        for phrase in query.phrases
        if len(phrase) > 1
    ]
    return and_(found, *exact)


def dialect_of(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


# ---------------------------------------------------------------------- keeping in step


async def reindex_outdated(session: AsyncSession, *, limit: int = 500) -> int:
    """Rewrite up to `limit` documents written by older rules; returns how many (0: done).
    Flushes; the caller commits each batch (at start-up: bot/runner.py)."""
    rows = list(
        await session.scalars(
            select(Memoir)
            .where(Memoir.search_version < SEARCH_VERSION)
            .order_by(Memoir.id)
            .limit(limit)
        )
    )
    if not rows:
        return 0
    captions: dict[int, list[str | None]] = {}
    caption_rows = await session.execute(
        select(MediaFile.memoir_id, MediaFile.caption)
        .where(MediaFile.memoir_id.in_([m.id for m in rows]))
        .order_by(MediaFile.id)
    )
    for memoir_id, caption in caption_rows:
        captions.setdefault(memoir_id, []).append(caption)
    for memoir in rows:
        write_document(memoir, captions.get(memoir.id, []))
    await session.flush()
    return len(rows)
