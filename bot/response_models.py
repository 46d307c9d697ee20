"""Keep aiogram's parametrised `Response[...]` models alive for the whole process.

aiogram validates every Bot API answer with `Response[method.__returning__]`. pydantic
keeps parametrised generic models only in a weak cache, so after each garbage collection
the next request rebuilds the model class and its validator: measured as a seventh of the
CPU of a registration step. Holding one strong reference per returning type (41 types,
about 70 ms once at start-up) makes every later lookup a cache hit.
"""

from __future__ import annotations

from typing import Any

import aiogram.methods
from aiogram.methods.base import Response, TelegramMethod

_PINNED: dict[str, Any] = {}


def pin_response_models() -> int:
    """Build and hold `Response[T]` for every Bot API method's T; returns how many."""
    if _PINNED:
        return len(_PINNED)
    for name in aiogram.methods.__all__:
        method = getattr(aiogram.methods, name)
        if isinstance(method, type) and issubclass(method, TelegramMethod):
            returning = getattr(method, "__returning__", None)
            if returning is None or isinstance(returning, property):
                continue  # an abstract base of other methods
            key = repr(returning)
            if key not in _PINNED:
                _PINNED[key] = Response[returning]  # type: ignore[valid-type]
    return len(_PINNED)
