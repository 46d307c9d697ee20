"""The pages of the club's book, rendered from Jinja2 templates with autoescaping.

Everything a member wrote reaches the pages only through template variables, so it is
escaped; no HTML is put together by hand. Pages are produced as a stream of text chunks
(`Template.generate`) so a contents list of 100,000 titles is never one string in memory.
The words come translated from the caller in `ExportLabels`; the templates hold none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

TEMPLATES = "templates/book"
# Chinese readers get simplified-character fonts; BCP 47 says so with a script subtag.
_HTML_LANG = {"zh": "zh-Hans"}


def _english_count(n: int) -> str:
    return f"{n:,} memoir" if n == 1 else f"{n:,} memoirs"


def _english_minutes(n: int) -> str:
    return f"{n} minute" if n == 1 else f"{n} minutes"


def _iso_day(moment: datetime) -> str:
    return moment.date().isoformat()


@dataclass(frozen=True)
class ExportLabels:
    """Words of the book; the handler passes them translated into the organiser's language."""

    lang: str = "en"
    club: str = "Club «Beloved Harbin»"
    book: str = "Book of memoirs"
    # "12 memoirs", «12 воспоминаний», «12篇回忆»: plural forms are the caller's (ngettext).
    count: Callable[[int], str] = _english_count
    indexes: str = "Indexes"
    by_theme: str = "By theme"
    by_decade: str = "By decade"
    by_author: str = "By author"
    no_theme: str = "Without a theme"
    no_period: str = "Time unknown"
    anonymous: str = "Anonymous"
    untitled: str = "Untitled"
    contents: str = "Contents"
    people: str = "People"
    document: str = "Document"
    decade: str = "{decade}s"
    photo_alt: str = "Photo {number} of «{title}»"
    recording_alt: str = "Recording {number} of «{title}»"
    download_recording: str = "Download the recording"
    recording_name: str = "recording"
    missing_file: str = "This file is missing from the archive."
    no_memoirs: str = "No memoirs have been approved yet."
    # The proceedings: one chapter per meeting with its talks (programme/queries.py).
    proceedings: str = "Proceedings"
    # A meeting's day as the organiser reads it; the caller knows their zone and language.
    day: Callable[[datetime], str] = _iso_day
    minutes: Callable[[int], str] = _english_minutes
    summary: str = "Summary"
    recording: str = "Recording of the meeting"
    materials: str = "Materials"
    talks: str = "Talks"
    speaker_unknown: str = "Speaker not named"
    no_talks: str = "No talks were given."


@dataclass(frozen=True)
class FileView:
    """One file on a memoir's page. `show`: image | audio | download | missing."""

    show: str
    href: str = ""
    alt: str = ""
    caption: str | None = None
    download_name: str = ""


@dataclass
class MemoirView:
    id: int
    title: str
    meta: str
    people: str | None
    paragraphs: list[str]
    files: list[FileView] = field(default_factory=list)


@dataclass
class TalkView:
    number: int
    title: str
    meta: str
    paragraphs: list[str]
    files: list[FileView] = field(default_factory=list)


@dataclass
class ChapterView:
    id: int
    title: str
    meta: str
    summary: list[str]
    recording: str | None
    talks: list[TalkView] = field(default_factory=list)


@dataclass(frozen=True)
class ListItem:
    id: int
    title: str
    meta: str


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("archive", TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,  # a misspelt variable fails loudly instead of vanishing
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(name: str) -> Template:
    return environment().get_template(name)


def stylesheet() -> bytes:
    return resources.files("archive").joinpath(TEMPLATES, "book.css").read_bytes()


def html_lang(locale: str) -> str:
    return _HTML_LANG.get(locale, locale)


def period(decade: int | None, year: int | None, labels: ExportLabels) -> str:
    if year:
        return str(year)
    return labels.decade.format(decade=decade) if decade else labels.no_period


def meta_line(parts: Iterable[str | None]) -> str:
    return " · ".join(p for p in parts if p)


def paragraphs(body: str | None) -> list[str]:
    """Blank lines separate paragraphs; single line breaks stay inside one (CSS pre-wrap)."""
    if not body:
        return []
    return [p.strip("\n") for p in re.split(r"\n\s*\n", body) if p.strip()]


def list_item(row: Any, labels: ExportLabels) -> ListItem:
    """A contents or index line from a row with id, title, author_name, decade, year."""
    return ListItem(
        id=row.id,
        title=row.title or labels.untitled,
        meta="— "
        + meta_line((row.author_name or labels.anonymous, period(row.decade, row.year, labels))),
    )


def _common(labels: ExportLabels, root: str) -> dict[str, Any]:
    return {"labels": labels, "lang": html_lang(labels.lang), "root": root}


def render_memoir(view: MemoirView, labels: ExportLabels) -> Iterator[str]:
    return _template("memoir.html").generate(memoir=view, **_common(labels, "../"))


def render_listing(
    heading: str, groups: Iterable[tuple[str, Iterable[ListItem]]], labels: ExportLabels
) -> Iterator[str]:
    return _template("listing.html").generate(heading=heading, groups=groups, **_common(labels, ""))


def render_cover(
    count: int,
    indexes: list[tuple[str, str]],
    contents: Iterable[ListItem],
    labels: ExportLabels,
) -> Iterator[str]:
    return _template("cover.html").generate(
        count=count,
        count_text=labels.count(count),
        indexes=indexes,
        contents=contents,
        **_common(labels, ""),
    )


def render_chapter(view: ChapterView, labels: ExportLabels) -> Iterator[str]:
    return _template("chapter.html").generate(chapter=view, **_common(labels, "../"))


def render_proceedings(chapters: Iterable[ListItem], labels: ExportLabels) -> Iterator[str]:
    return _template("proceedings.html").generate(chapters=chapters, **_common(labels, "../"))
