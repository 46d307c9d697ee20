"""Translation ground: catalog files, the marker `N_`, locale resolution, and a translator
that needs no Telegram (jobs, the web, command-line tools).

The Telegram side builds aiogram's own I18n from the same catalogs (handlers/i18n.py); it
has the same `gettext(singular, plural, n, locale=...)` shape as `Translator` below, so a
domain takes either.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from pathlib import Path
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ground.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


class Translator(Protocol):
    """What a domain needs to speak a person's language."""

    default_locale: str

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


def compile_catalogs(locales_dir: Path = LOCALES_DIR, *, force: bool = False) -> list[Path]:
    """Write each `.mo` whose `.po` is newer; gettext loads only compiled catalogs."""
    written: list[Path] = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)  # atomic: a running bot never reads half a file
        written.append(mo_path)
    return written


def resolve_locale(language_code: str | None, default: str) -> str:
    """Map Telegram's language_code (`zh-hans`, `zh-CN`, `en-GB`...) to ru/en/zh."""
    if not language_code:
        return default
    base = language_code.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in SUPPORTED_LOCALES else default


def N_(message: str) -> str:
    """Marks a string for the catalogs where it is translated later (outside an update)."""
    return message


class Catalogs:
    """The compiled catalogs of every supported locale, as a `Translator`."""

    def __init__(self, default_locale: str, locales_dir: Path = LOCALES_DIR) -> None:
        compile_catalogs(locales_dir)
        self.default_locale = default_locale
        self._by_locale = {
            locale: stdlib_gettext.translation(
                DOMAIN, localedir=str(locales_dir), languages=[locale], fallback=True
            )
            for locale in SUPPORTED_LOCALES
        }

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        found = self._by_locale.get(locale or self.default_locale)
        if found is None:
            found = self._by_locale[self.default_locale]
        if plural is None:
            return found.gettext(singular)
        return found.ngettext(singular, plural, n)
