"""What pages show, as plain values for the templates: cards, a memoir, links per language.

Shared by the public site (web/site.py) and the Mini App (web/miniapp.py). Everything a
member wrote stays a plain string here; the templates escape it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from archive.book import paragraphs
from archive.collection import ANONYMOUS, MEMBERS_ONLY, NAMED, Card, CardPage, FileRef, MemoirPage
from db.filetypes import ALLOWED, declared_type, download_name
from ground.i18n import N_
from ground.settings import SUPPORTED_LOCALES
from web.files import file_url, srcset, thumb_url
from web.rendering import HTML_LANG, LANGUAGE_NAMES, PageMeta

Translate = Callable[[str], str]
PUBLIC_FILES = "/media"
APP_FILES = "/app/media"

STATUS_TEXTS = {
    "draft": N_("Draft: not sent to the organisers yet."),
    "pending": N_("Waiting for the organisers' review."),
    "approved": N_("In the club's archive."),
    "rejected": N_("Not accepted by the organisers."),
}
CONSENT_TEXTS = {
    MEMBERS_ONLY: N_("Club members only"),
    NAMED: N_("Public website, with my name"),
    ANONYMOUS: N_("Public website, without my name"),
}


def decade_label(t: Translate, decade: int) -> str:
    return t("{decade}s").format(decade=decade)


def period_label(t: Translate, decade: int | None, year: int | None) -> str | None:
    if year:
        return str(year)
    return decade_label(t, decade) if decade else None


def title_of(t: Translate, title: str | None) -> str:
    return title or t("Untitled")


def meta_line(parts: list[str | None]) -> str:
    return " · ".join(p for p in parts if p)


def card_view(t: Translate, card: Card, url: str, files: str) -> dict[str, Any]:
    title = title_of(t, card.title)
    extras = []
    if card.photos:
        extras.append(t("Photos: {count}").format(count=card.photos))
    if card.recordings:
        extras.append(t("Recordings: {count}").format(count=card.recordings))
    photo = card.photo
    return {
        "url": url,
        "title": title,
        "thumb": thumb_url(files, photo.sha256, 320) if photo else None,
        "srcset": srcset(files, photo.sha256) if photo else "",
        "alt": (photo.caption or t("Photo from «{title}»").format(title=title)) if photo else "",
        "meta": meta_line(
            [card.author or t("anonymous"), period_label(t, card.decade, card.year), card.place]
        ),
        "excerpt": card.excerpt,
        "extras": " · ".join(extras),
    }


def file_view(t: Translate, ref: FileRef, files: str, title: str, number: int) -> dict[str, Any]:
    checked = ALLOWED.get(declared_type(ref.mime_type))
    view: dict[str, Any] = {
        "show": ref.show,
        "full": file_url(files, ref.sha256, ref.extension),
        "caption": ref.caption,
        "download_name": download_name(ref.original_name, checked, ref.sha256[:12])
        if checked
        else ref.sha256[:12] + ".bin",
    }
    if ref.show == "image":
        view["src"] = thumb_url(files, ref.sha256, 640)
        view["srcset"] = srcset(files, ref.sha256)
        view["alt"] = ref.caption or t("Photo {number} of «{title}»").format(
            number=number, title=title
        )
    elif ref.show == "audio":
        view["alt"] = t("Recording {number} of «{title}»").format(number=number, title=title)
    return view


def memoir_view(t: Translate, memoir: MemoirPage, files: str, *, status: bool) -> dict[str, Any]:
    title = title_of(t, memoir.title)
    counters = {"image": 0, "audio": 0, "download": 0}
    views = []
    for ref in memoir.files:
        counters[ref.show] += 1
        views.append(file_view(t, ref, files, title, counters[ref.show]))
    return {
        "id": memoir.id,
        "title": title,
        "meta": meta_line(
            [
                memoir.author or t("anonymous"),
                period_label(t, memoir.decade, memoir.year),
                memoir.place,
                t("Theme: {theme}").format(theme=memoir.theme) if memoir.theme else None,
            ]
        ),
        "people": memoir.people,
        "paragraphs": paragraphs(memoir.body),
        "files": views,
        "status_text": t(STATUS_TEXTS.get(memoir.status, "")) if status else None,
        "web_consent": memoir.web_consent,
    }


@dataclass(frozen=True)
class Pager:
    page: int  # 1-based, as people count
    pages: int
    previous: str | None
    next: str | None


def pager_for(
    path: str,
    params: dict[str, str],
    page: CardPage | None,
    *,
    more: bool = False,
    current: int = 0,
) -> Pager:
    """Links to the neighbouring pages (`page=` counts from 1 in addresses)."""
    if page is not None:
        current, pages = page.page, page.pages
        has_next = current + 1 < pages
    else:
        pages = current + (2 if more else 1)
        has_next = more

    def link(number: int) -> str:
        query = {k: v for k, v in params.items() if v}
        if number > 0:
            query["page"] = str(number + 1)
        return path + ("?" + urlencode(query) if query else "")

    return Pager(
        page=current + 1,
        pages=pages,
        previous=link(current - 1) if current > 0 else None,
        next=link(current + 1) if has_next else None,
    )


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) - 1 if raw.isdigit() and 0 < int(raw) < 100_000 else 0


def public_meta(
    base_url: str,
    request: web.Request,
    locale: str,
    title: str,
    *,
    description: str = "",
    og_type: str = "website",
    image: str | None = None,
    image_alt: str = "",
    noindex: bool = False,
) -> PageMeta:
    """The page's own address and the same page in the other languages (hreflang)."""
    rest = request.path_qs[len(locale) + 1 :]
    urls = {code: f"{base_url}/{code}{rest}" for code in SUPPORTED_LOCALES}
    alternates = [(HTML_LANG[code], url) for code, url in urls.items()]
    alternates.append(("x-default", urls["ru"]))
    return PageMeta(
        title=title,
        description=description,
        canonical=urls[locale],
        alternates=[] if noindex else alternates,
        languages=[(HTML_LANG[c], LANGUAGE_NAMES[c], f"/{c}{rest}") for c in SUPPORTED_LOCALES],
        og_type=og_type,
        image=image,
        image_alt=image_alt,
        noindex=noindex,
    )


def app_meta(title: str) -> PageMeta:
    return PageMeta(title=title, noindex=True)
