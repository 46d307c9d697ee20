"""The public website: the memoir collection, its search, burial records, the next
meeting, the sitemap. Thin views: parse the address, call the domain, render a template.

Addresses are stable and carry the language: `/ru/`, `/en/memoirs/12`, `/zh/graves/5`.
Every page works without script. A memoir nobody agreed to publish answers 404, the same
as one that does not exist, and so do its files.
"""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import burials
from archive import collection
from archive.collection import Audience, Filters
from db.filetypes import extension_for
from db.media import MediaStore
from db.models import BurialRecord
from ground.context import AppContext
from ground.i18n import N_, resolve_locale
from ground.settings import SUPPORTED_LOCALES
from scheduling.geo import localtime, places
from scheduling.meetings.lifecycle import next_meeting
from web.files import FileServer, parse_name, srcset, thumb_url
from web.rendering import HTML_LANG, RENDERER_KEY, Renderer, serve_static
from web.security import RateLimiter, client_address
from web.views import (
    PUBLIC_FILES,
    Translate,
    card_view,
    decade_label,
    memoir_view,
    page_number,
    pager_for,
    public_meta,
)

PER_PAGE = 24
GRAVES_PER_PAGE = 20
SITEMAP_CHUNK = 5000
# How long the facet counts may lag: a new or withdrawn memoir shows in the list at once,
# in the counts (and a withdrawn memoir's place or theme as a link) within this time.
FACETS_SECONDS = 15.0
LANG = "{lang:ru|en|zh}"
# Cities the club's members live in, for the meeting's time table (east to west).
MEETING_CITIES = (
    ("Australia/Sydney", None),
    ("Asia/Vladivostok", None),
    ("Asia/Shanghai", N_("Harbin")),
    ("Europe/Moscow", None),
    ("Europe/Berlin", None),
    ("America/New_York", None),
    ("America/Los_Angeles", None),
)
RELATIONS = {
    "parent": N_("parent"),
    "child": N_("child"),
    "spouse": N_("spouse"),
    "sibling": N_("brother or sister"),
    "relative": N_("relative"),
}


class Site:
    def __init__(self, ctx: AppContext, renderer: Renderer, files: FileServer) -> None:
        self.ctx = ctx
        self.renderer = renderer
        self.files = files
        self.base = ctx.settings.public_base_url
        # Searches per visitor's address: 10 at once, then one every 2 seconds.
        self.limiter = RateLimiter(rate=0.5, burst=10)
        self._facets: tuple[float, collection.Facets] | None = None

    async def facets(self, session: AsyncSession) -> collection.Facets:
        """The collection's decades, places and themes with their counts, read at most
        every FACETS_SECONDS (three grouped counts are a third of the page's time)."""
        now = time.monotonic()
        if self._facets is not None and now - self._facets[0] < FACETS_SECONDS:
            return self._facets[1]
        found = await collection.facets(session, Audience.PUBLIC)
        self._facets = (now, found)
        return found

    # ------------------------------------------------------------------ helpers

    def t(self, locale: str) -> Translate:
        return self.renderer.translator(locale)

    def common(self, locale: str) -> dict[str, Any]:
        return {"site_name": self.t(locale)("Club «Beloved Harbin»")}

    def not_found(self, request: web.Request, locale: str) -> web.Response:
        t = self.t(locale)
        return self.renderer.page(
            request,
            locale,
            "error.html",
            status=404,
            meta=public_meta(self.base, request, locale, t("Page not found"), noindex=True),
            section="",
            heading=t("Page not found"),
            message=t("There is no page at this address, or it is not public."),
            link=f"/{locale}/",
            link_text=t("All memoirs"),
            **self.common(locale),
        )

    def limited(self, request: web.Request, locale: str) -> web.Response | None:
        wait = self.limiter.retry_after(client_address(request))
        if not wait:
            return None
        t = self.t(locale)
        return self.renderer.page(
            request,
            locale,
            "error.html",
            status=429,
            headers={"Retry-After": str(max(1, round(wait)))},
            meta=public_meta(self.base, request, locale, t("Too many searches"), noindex=True),
            section="",
            heading=t("Too many searches"),
            message=t("Please wait a few seconds and search again."),
            link="",
            link_text="",
            **self.common(locale),
        )

    # ------------------------------------------------------------------ pages

    async def root(self, request: web.Request) -> web.StreamResponse:
        best = self.ctx.settings.default_locale
        header = request.headers.get("Accept-Language", "")
        for part in header.split(","):
            code = part.split(";", 1)[0].strip()
            if code and resolve_locale(code, "") in SUPPORTED_LOCALES:
                best = resolve_locale(code, best)
                break
        raise web.HTTPFound(f"/{best}/", headers={"Vary": "Accept-Language"})

    async def collection_page(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        filters = Filters(
            decade=collection.clean_decade(request.query.get("decade")),
            place=collection.clean_text(request.query.get("place")),
            theme=collection.clean_text(request.query.get("theme")),
        )
        async with self.ctx.session_factory() as session:
            page = await collection.collection_page(
                session, Audience.PUBLIC, filters, page=page_number(request), per_page=PER_PAGE
            )
            facets = await self.facets(session)
        params = {
            "decade": str(filters.decade or ""),
            "place": filters.place or "",
            "theme": filters.theme or "",
        }
        filter_text = " · ".join(
            p
            for p in (
                decade_label(t, filters.decade) if filters.decade else None,
                filters.place,
                filters.theme,
            )
            if p
        )
        base = f"/{locale}/"
        facet_groups = [
            (
                t("By decade"),
                [
                    (decade_label(t, f.value), base + "?" + urlencode({"decade": f.value}), f.count)
                    for f in facets.decades
                ],
            ),
            (
                t("By place in Harbin"),
                [
                    (f.value, base + "?" + urlencode({"place": f.value}), f.count)
                    for f in facets.places
                ],
            ),
            (
                t("By theme"),
                [
                    (f.value, base + "?" + urlencode({"theme": f.value}), f.count)
                    for f in facets.themes
                ],
            ),
        ]
        heading = t("Memoirs of Harbin")
        title = f"{filter_text} · {heading}" if filter_text else heading
        first_photo = next((c.photo for c in page.cards if c.photo), None)
        return self.renderer.page(
            request,
            locale,
            "collection.html",
            meta=public_meta(
                self.base,
                request,
                locale,
                title,
                description=t(
                    "Memories of the club «Beloved Harbin»: texts, photos and voices of "
                    "Harbin natives and their families."
                ),
                image=self._image(first_photo.sha256) if first_photo else None,
                image_alt=heading,
            ),
            section="memoirs",
            heading=title,
            lead=t(
                "Memories of the club «Beloved Harbin»: texts, photos and voices of "
                "Harbin natives and their families."
            )
            if filters.empty
            else "",
            query="",
            filter_text=filter_text,
            count_text=t("Memoirs: {count}").format(count=page.total),
            cards=[self._card(t, locale, c) for c in page.cards],
            pager=pager_for(base, params, page),
            facets=facet_groups,
            **self.common(locale),
        )

    def _card(self, t: Translate, locale: str, card: collection.Card) -> dict[str, Any]:
        return card_view(t, card, f"/{locale}/memoirs/{card.id}", PUBLIC_FILES)

    def _image(self, sha256: str) -> str:
        return self.base + thumb_url(PUBLIC_FILES, sha256, 1280)

    async def search(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        query = " ".join(request.query.get("q", "").split())[:200]
        if not query:
            raise web.HTTPFound(f"/{locale}/")
        refused = self.limited(request, locale)
        if refused is not None:
            return refused
        async with self.ctx.session_factory() as session:
            page = await collection.collection_page(
                session,
                Audience.PUBLIC,
                Filters(query=query),
                page=page_number(request),
                per_page=PER_PAGE,
            )
        heading = t("Search: “{query}”").format(query=query)
        return self.renderer.page(
            request,
            locale,
            "collection.html",
            meta=public_meta(self.base, request, locale, heading, noindex=True),
            section="memoirs",
            heading=heading,
            lead="",
            query=query,
            filter_text="",
            count_text=t("Found: more than {count}").format(count=page.total)
            if page.capped
            else t("Found: {count}").format(count=page.total),
            cards=[self._card(t, locale, c) for c in page.cards],
            pager=pager_for(f"/{locale}/search", {"q": query}, page),
            facets=None,
            **self.common(locale),
        )

    async def memoir(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        raw = request.match_info["id"]
        if not raw.isdigit() or len(raw) > 12:
            return self.not_found(request, locale)
        async with self.ctx.session_factory() as session:
            found = await collection.memoir_page(session, int(raw), Audience.PUBLIC)
        if found is None:
            return self.not_found(request, locale)
        view = memoir_view(t, found, PUBLIC_FILES, status=False)
        photos = found.photos
        description = " ".join((found.body or "").split())[:200]
        return self.renderer.page(
            request,
            locale,
            "memoir.html",
            meta=public_meta(
                self.base,
                request,
                locale,
                view["title"],
                description=description or view["meta"],
                og_type="article",
                image=self._image(photos[0].sha256) if photos else None,
                image_alt=photos[0].caption or view["title"] if photos else "",
            ),
            section="memoirs",
            memoir=view,
            **self.common(locale),
        )

    async def media(self, request: web.Request) -> web.StreamResponse:
        name = parse_name(request.match_info["name"])
        if name is None:
            raise web.HTTPNotFound()
        async with self.ctx.session_factory() as session:
            stored = await collection.visible_file(session, name.sha256, Audience.PUBLIC)
        if stored is None:
            raise web.HTTPNotFound()
        return await self.files.respond(stored, name, private=False)

    # ------------------------------------------------------------------ burial records

    async def graves(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        query = " ".join(request.query.get("q", "").split())[:200]
        number = page_number(request)
        results: list[dict[str, str]] = []
        count_text = ""
        more = False
        if query:
            refused = self.limited(request, locale)
            if refused is not None:
                return refused
            async with self.ctx.session_factory() as session:
                try:
                    found = await burials.search_records(
                        session,
                        query,
                        limit=GRAVES_PER_PAGE + 1,
                        offset=number * GRAVES_PER_PAGE,
                        approved_only=True,
                    )
                except burials.EmptyQuery:
                    found = []
                    count_text = t("Please type a name or a year.")
            more = len(found) > GRAVES_PER_PAGE
            results = [
                {
                    "name": _record_name(m.record),
                    "url": f"/{locale}/graves/{m.record.id}",
                    "meta": _record_years(m.record),
                }
                for m in found[:GRAVES_PER_PAGE]
            ]
            if not results and not count_text:
                count_text = t("Nothing found for “{query}”.").format(query=query)
        title = t("Burial records")
        return self.renderer.page(
            request,
            locale,
            "graves.html",
            meta=public_meta(self.base, request, locale, title, noindex=bool(query)),
            section="graves",
            query=query,
            results=results,
            count_text=count_text,
            pager=pager_for(f"/{locale}/graves", {"q": query}, None, more=more, current=number)
            if query
            else None,
            **self.common(locale),
        )

    async def grave(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        raw = request.match_info["id"]
        if not raw.isdigit() or len(raw) > 12:
            return self.not_found(request, locale)
        async with self.ctx.session_factory() as session:
            record = await burials.get_record(session, int(raw))
            if record is None or record.status != burials.APPROVED:
                return self.not_found(request, locale)
            photos = await burials.photos_of(session, record)
            relatives = [
                (other, relation)
                for other, relation in await burials.relatives_of(session, record)
                if other.status == burials.APPROVED
            ]
        name = _record_name(record)
        facts = [
            (t("Born"), _date_text(t, record.born, record.born_old_style)),
            (t("Died"), _date_text(t, record.died, record.died_old_style)),
            (t("Cemetery"), record.cemetery),
            (t("Section"), record.section),
            (t("Source"), record.source),
        ]
        if record.latitude is not None and record.longitude is not None:
            facts.append((t("Coordinates"), f"{record.latitude:.5f}, {record.longitude:.5f}"))
        prefix = f"/graves/{record.id}/photos"
        photo_views = [
            {
                "full": f"{prefix}/{p.sha256}{_extension(p.mime_type)}",
                "src": thumb_url(prefix, p.sha256, 640),
                "srcset": srcset(prefix, p.sha256),
                "alt": p.caption or t("Gravestone of {name}").format(name=name),
                "caption": p.caption,
            }
            for p in photos
        ]
        view = {
            "name": name,
            "facts": [(label, value) for label, value in facts if value],
            "inscription": record.inscription,
            "photos": photo_views,
            "relatives": [
                (_record_name(other), f"/{locale}/graves/{other.id}", t(RELATIONS.get(rel, rel)))
                for other, rel in relatives
            ],
        }
        return self.renderer.page(
            request,
            locale,
            "grave.html",
            meta=public_meta(
                self.base,
                request,
                locale,
                name,
                description=_record_years(record),
                og_type="article",
                image=self.base + thumb_url(prefix, photos[0].sha256, 1280) if photos else None,
                image_alt=photo_views[0]["alt"] if photo_views else "",
            ),
            section="graves",
            record=view,
            **self.common(locale),
        )

    async def grave_photo(self, request: web.Request) -> web.StreamResponse:
        name = parse_name(request.match_info["name"])
        raw = request.match_info["id"]
        if name is None or not raw.isdigit() or len(raw) > 12:
            raise web.HTTPNotFound()
        async with self.ctx.session_factory() as session:
            record = await burials.get_record(session, int(raw))
            if record is None or record.status != burials.APPROVED:
                raise web.HTTPNotFound()
            photo = next(
                (p for p in await burials.photos_of(session, record) if p.sha256 == name.sha256),
                None,
            )
        if photo is None:
            raise web.HTTPNotFound()
        return await self.files.respond(photo, name, private=False)

    # ------------------------------------------------------------------ the next meeting

    async def meeting(self, request: web.Request) -> web.Response:
        locale = request.match_info["lang"]
        t = self.t(locale)
        async with self.ctx.session_factory() as session:
            found = await next_meeting(session, self.ctx.clock.now())
        view = None
        if found is not None:
            starts = found.starts_at.astimezone(UTC)
            cities = [
                (
                    t(name) if name else places.zone_label(zone, locale),
                    localtime.format_meeting_time(starts, zone, locale, with_year=True)
                    + f" ({localtime.format_utc_offset(starts, zone)})",
                )
                for zone, name in MEETING_CITIES
            ]
            view = {
                "theme": found.theme,
                "iso": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "utc_text": localtime.format_meeting_time(starts, "UTC", locale, with_year=True)
                + " UTC",
                "cities": cities,
            }
        calendar = f"{self.base}/feed/public.ics" if self.ctx.settings.public_feed else None
        return self.renderer.page(
            request,
            locale,
            "meeting.html",
            meta=public_meta(self.base, request, locale, t("Next meeting")),
            section="meeting",
            meeting=view,
            calendar_url=calendar,
            **self.common(locale),
        )

    # ------------------------------------------------------------------ for robots

    async def robots(self, _request: web.Request) -> web.Response:
        text = (
            f"User-agent: *\nDisallow: /app/\nDisallow: /feed/\nSitemap: {self.base}/sitemap.xml\n"
        )
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def sitemap_index(self, _request: web.Request) -> web.Response:
        async with self.ctx.session_factory() as session:
            memoir_ids = await collection.published_ids(session, limit=10**9)
            grave_ids = await _approved_record_ids(session)
        names = ["pages"]
        names += [f"memoirs-{n}" for n in sorted({(i - 1) // SITEMAP_CHUNK for i in memoir_ids})]
        names += [f"graves-{n}" for n in sorted({(i - 1) // SITEMAP_CHUNK for i in grave_ids})]
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
            *(f"<sitemap><loc>{self.base}/sitemaps/{n}.xml</loc></sitemap>" for n in names),
            "</sitemapindex>",
        ]
        return _xml("\n".join(lines))

    async def sitemap(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        kind, _sep, number = name.partition("-")
        if name == "pages":
            paths = ["/", "/graves", "/meeting"]
        elif kind in ("memoirs", "graves") and number.isdigit() and len(number) < 7:
            first = int(number) * SITEMAP_CHUNK
            async with self.ctx.session_factory() as session:
                if kind == "memoirs":
                    ids = await collection.published_ids(session, after=first, limit=SITEMAP_CHUNK)
                else:
                    ids = await _approved_record_ids(session, after=first, limit=SITEMAP_CHUNK)
            paths = [f"/{kind}/{i}" for i in ids if i <= first + SITEMAP_CHUNK]
            if not paths:
                raise web.HTTPNotFound()
        else:
            raise web.HTTPNotFound()
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
        ]
        for path in paths:
            for locale in SUPPORTED_LOCALES:
                lines.append(f"<url><loc>{escape(self.base + '/' + locale + path)}</loc>")
                for other in SUPPORTED_LOCALES:
                    href = quoteattr(self.base + "/" + other + path)
                    lines.append(
                        f'<xhtml:link rel="alternate" hreflang="{HTML_LANG[other]}" href={href}/>'
                    )
                lines.append("</url>")
        lines.append("</urlset>")
        return _xml("\n".join(lines))


def _xml(text: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="application/xml",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def _approved_record_ids(
    session: AsyncSession, *, after: int = 0, limit: int = 10**9
) -> list[int]:
    # A listing only the sitemap needs; burials/ (changed on another branch meanwhile)
    # may take it over as burials.approved_ids.
    rows = await session.scalars(
        select(BurialRecord.id)
        .where(BurialRecord.status == burials.APPROVED, BurialRecord.id > after)
        .order_by(BurialRecord.id)
        .limit(limit)
    )
    return list(rows)


def _record_name(record: BurialRecord) -> str:
    return " ".join(p for p in (record.surname, record.given_names, record.patronymic) if p)


def _record_years(record: BurialRecord) -> str:
    born = (record.born or "")[:4]
    died = (record.died or "")[:4]
    if not born and not died:
        return ""
    return f"{born or '?'}–{died or '?'}"


def _date_text(t: Translate, iso: str | None, old_style: bool) -> str | None:
    if not iso:
        return None
    return f"{iso} {t('(Old Style)')}" if old_style else iso


def _extension(mime_type: str) -> str:
    return extension_for(mime_type)


def mount_site(app: web.Application, ctx: AppContext, renderer: Renderer) -> Site:
    site = Site(ctx, renderer, FileServer(MediaStore(ctx.settings.media_dir)))
    app[RENDERER_KEY] = renderer
    add = app.router.add_get
    add("/", site.root, name="root")
    add(f"/{LANG}/", site.collection_page, name="collection")
    add(f"/{LANG}", _slash, name="lang_root")
    add(f"/{LANG}/search", site.search, name="search")
    add(f"/{LANG}/memoirs/{{id}}", site.memoir, name="memoir")
    add(f"/{LANG}/graves", site.graves, name="graves")
    add(f"/{LANG}/graves/{{id}}", site.grave, name="grave")
    add(f"/{LANG}/meeting", site.meeting, name="meeting")
    add("/media/{name}", site.media, name="media")
    add("/graves/{id}/photos/{name}", site.grave_photo, name="grave_photo")
    add("/static/{name}", serve_static, name="static")
    add("/robots.txt", site.robots, name="robots")
    add("/sitemap.xml", site.sitemap_index, name="sitemap")
    add("/sitemaps/{name}.xml", site.sitemap, name="sitemaps")
    return site


async def _slash(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(f"/{request.match_info['lang']}/")
