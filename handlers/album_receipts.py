"""One receipt for an album instead of one per photo.

Telegram delivers an album as separate messages that share a `media_group_id`. Each part is
stored and committed as it arrives, as any file is; only the receipt waits until no part has
come for a moment, then says how many were saved. Ten "Photo saved" messages in a row
confused members who sent one album. A part that could not be saved is still answered at
once, on its own.

The wait lives in this process only: if the bot stops within that moment, the parts are
safely stored but the receipt is not sent (the member sees them in /my).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ALBUM_QUIET_SECONDS = 1.0

# Sends the receipt: (chat id, photos saved, other files saved).
SendReceipt = Callable[[int, int, int], Awaitable[None]]


@dataclass
class _Album:
    chat_id: int
    send: SendReceipt
    photos: int = 0
    others: int = 0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class AlbumReceipts:
    def __init__(self, quiet_seconds: float = ALBUM_QUIET_SECONDS) -> None:
        self.quiet_seconds = quiet_seconds
        self._albums: dict[tuple[int, str], _Album] = {}
        self._sending: set[asyncio.Task[None]] = set()

    def saved(self, chat_id: int, group_id: str, *, photo: bool, send: SendReceipt) -> None:
        """Count one saved part; the receipt goes once the album has been quiet a moment."""
        key = (chat_id, group_id)
        album = self._albums.get(key)
        if album is None:
            album = self._albums[key] = _Album(chat_id, send)
        if photo:
            album.photos += 1
        else:
            album.others += 1
        album.send = send  # the latest part's, in the member's current language
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().call_later(self.quiet_seconds, self._quiet, key)

    def _quiet(self, key: tuple[int, str]) -> None:
        album = self._albums.pop(key)
        task = asyncio.create_task(self._send(album))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, album: _Album) -> None:
        try:
            await album.send(album.chat_id, album.photos, album.others)
        except Exception:  # the parts are stored; only the receipt is lost
            log.exception("could not send an album receipt to chat %s", album.chat_id)

    def __len__(self) -> int:
        return len(self._albums)
