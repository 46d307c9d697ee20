"""aiogram's I18n over the project's catalogs, and memoised per-locale renderers."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.context import get_i18n

from ground.i18n import DOMAIN, LOCALES_DIR, compile_catalogs


def build_i18n(default_locale: str, locales_dir: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


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
