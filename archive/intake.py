"""A file a member sent, fetched into the media store (streamed to disk, never whole in
memory). Where it comes from is the interface's business: it passes a `Download`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from db.media import MediaStore, StoredBlob

# Only used in the member-facing explanation; the code itself never assumes it: a local
# Bot API server (TELEGRAM_API_BASE) serves bigger files and we simply try.
PUBLIC_API_DOWNLOAD_MB = 20

# (file id, destination) -> the file written there; raises FileTooBig when refused for size.
Download = Callable[[str, Path], Awaitable[None]]


class FileTooBig(Exception):
    """The Bot API refused to serve this file ("file is too big")."""


@dataclass(frozen=True)
class Incoming:
    """The file part of a member's message, whatever kind of message carried it."""

    file_id: str
    file_unique_id: str
    file_size: int | None
    kind: str
    mime_type: str
    original_name: str | None
    caption: str | None


async def fetch_and_store(download: Download, store: MediaStore, item: Incoming) -> StoredBlob:
    """Download into a temp file of the store, then store it safely."""
    temp = await asyncio.to_thread(store.new_temp_path)
    try:
        await download(item.file_id, temp)
        return await asyncio.to_thread(
            store.put_file,
            temp,
            kind=item.kind,
            mime_type=item.mime_type,
            original_name=item.original_name,
        )
    finally:
        await asyncio.to_thread(temp.unlink, True)
