"""gettext catalogs: compile `.po` to `.mo`, resolve a member's locale, build aiogram's I18n."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.context import get_i18n
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


P = ParamSpec("P")
R = TypeVar("R")


def cached_per_locale(maxsize: int = 512) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Memoise a pure renderer by its arguments and the update's gettext locale.

    A dialogue step's text and buttons depend only on those; rebuilding them (translations,
    Babel names, packed callback data) was a large part of a button press. The result is
    shared between updates, so it must not be changed by callers.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        memo: dict[Hashable, R] = {}

        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                locale = get_i18n().current_locale
            except LookupError:  # outside an update: nothing to key on
                return func(*args, **kwargs)
            key = (locale, args, tuple(sorted(kwargs.items())))
            found = memo.get(key)
            if found is None:
                if len(memo) >= maxsize:
                    memo.clear()  # rare: the keys are countries, zones and minutes
                found = memo[key] = func(*args, **kwargs)
            return found

        return wrapper

    return decorate
