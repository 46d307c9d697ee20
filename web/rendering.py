"""Pages from Jinja2 templates with autoescaping, one environment per language, with ETags.

Every word in a template goes through `_()` (the gettext catalogs, extracted from
`web/templates` by babel.cfg), and everything a member wrote reaches a page only as a
template variable, so it is escaped. A page's ETag is a digest of its bytes: a browser or a
proxy that asks again with If-None-Match gets 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ground.i18n import Translator
from ground.settings import SUPPORTED_LOCALES

HTML_LANG = {"ru": "ru", "en": "en", "zh": "zh-Hans"}
OG_LOCALE = {"ru": "ru_RU", "en": "en_GB", "zh": "zh_CN"}
STATIC_FILES = {"site.css": "text/css", "site.js": "text/javascript", "app.js": "text/javascript"}
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Static:
    body: bytes
    content_type: str
    version: str


def load_static() -> dict[str, Static]:
    found = {}
    for name, content_type in STATIC_FILES.items():
        body = resources.files("web").joinpath("static", name).read_bytes()
        found[name] = Static(body, content_type, hashlib.sha256(body).hexdigest()[:12])
    return found


@dataclass
class PageMeta:
    """What the <head> says about a page: title, links to it in each language, preview."""

    title: str
    description: str = ""
    canonical: str = ""
    alternates: list[tuple[str, str]] = field(default_factory=list)  # (hreflang, url)
    languages: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, url)
    og_type: str = "website"
    image: str | None = None
    image_alt: str = ""
    noindex: bool = False


LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "zh": "中文"}


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in header.split(","))


class Renderer:
    """Three template environments (ru, en, zh) sharing the app's catalogs."""

    def __init__(self, i18n: Translator, static: Mapping[str, Static]) -> None:
        self.static = static
        self.envs = {locale: self._environment(i18n, locale) for locale in SUPPORTED_LOCALES}

    def static_url(self, name: str) -> str:
        return f"/static/{name}?v={self.static[name].version}"

    def _environment(self, i18n: Translator, locale: str) -> Environment:
        env = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

        def gettext(message: str) -> str:
            return i18n.gettext(message, locale=locale)

        def ngettext(singular: str, plural: str, n: int) -> str:
            return i18n.gettext(singular, plural, n, locale=locale)

        env.globals.update(
            _=gettext,
            gettext=gettext,
            ngettext=ngettext,
            locale=locale,
            html_lang=HTML_LANG[locale],
            og_locale=OG_LOCALE[locale],
            static=self.static_url,
        )
        return env

    def translator(self, locale: str) -> Callable[[str], str]:
        return self.envs[locale].globals["_"]  # type: ignore[return-value]

    def html(self, locale: str, template: str, **context: Any) -> bytes:
        return self.envs[locale].get_template(template).render(**context).encode()

    def page(
        self,
        request: web.Request,
        locale: str,
        template: str,
        *,
        status: int = 200,
        private: bool = False,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        """A rendered page; 304 when the client already holds these very bytes.

        Public pages are revalidated on every view (`no-cache`), which costs a 304; a
        member's own pages are never stored (`no-store`)."""
        body = self.html(locale, template, **context)
        extra = dict(headers or {})
        if private:
            extra["Cache-Control"] = "private, no-store"
            response = web.Response(body=body, status=status, headers=extra)
        else:
            etag = etag_of(body)
            extra.update({"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"})
            if status == 200 and etag_matches(request.headers.get("If-None-Match"), etag):
                return web.Response(status=304, headers=extra)
            response = web.Response(body=body, status=status, headers=extra)
        response.content_type = "text/html"
        response.charset = "utf-8"
        response.enable_compression()
        return response


RENDERER_KEY = web.AppKey("renderer", Renderer)


async def serve_static(request: web.Request) -> web.Response:
    """The stylesheet and scripts: from memory, cached for a year (the address carries
    the content's digest, so a new version is a new address)."""
    renderer = request.app[RENDERER_KEY]
    found = renderer.static.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    etag = f'"{found.version}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={YEAR}, immutable"}
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    response = web.Response(body=found.body, headers=headers)
    response.content_type = found.content_type
    response.charset = "utf-8"
    response.enable_compression()
    return response
