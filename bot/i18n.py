"""gettext catalogs: compile `.po` to `.mo`, resolve a member's locale, build aiogram's I18n."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR, *, force: bool = False) -> list[Path]:
    """Write each `.mo` whose `.po` is newer; aiogram loads only compiled catalogs."""
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


def build_i18n(default_locale: str, locales_dir: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def N_(message: str) -> str:
    """Marks a string for the catalogs where it is translated later (outside an update)."""
    return message
