"""What the interfaces and jobs share, as plain data (no Telegram, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ground.clock import Clock
from ground.i18n import Translator
from ground.settings import Settings


@dataclass
class AppContext:
    """Settings, the database's session factory, translations and the clock."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    i18n: Translator
    clock: Clock
