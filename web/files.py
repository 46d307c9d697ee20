"""Members' files over HTTP: full size and thumbnails, by content hash.

Addresses are `<sha256><ext>` (the file) and `<sha256>-<width>.jpg` (a thumbnail). Which
audience may fetch which file is decided by the caller (archive.collection.visible_file,
or a burial record's photos); here the file is served as db/filetypes says: its type from
its own first bytes, inline only for checked pictures and recordings, a download with a
neutral type for anything else, `nosniff` always. A name that does not fit, a width we
do not make, or a file missing on disk is 404, the same as a file nobody may see.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from db.filetypes import IMAGE, FileType, download_name, response_headers, sniff_path
from db.media import MediaStore
from db.thumbnails import MIME_TYPE, WIDTHS, ThumbnailError, make_thumbnail

YEAR = 365 * 24 * 3600
_NAME = re.compile(
    r"^(?P<sha>[0-9a-f]{64})(?:-(?P<width>[0-9]{3,4})\.jpg|(?P<ext>\.[a-z0-9]{2,5}))$"
)


class StoredFile(Protocol):
    sha256: str
    path: str
    mime_type: str
    original_name: str | None


@dataclass(frozen=True)
class FileName:
    sha256: str
    width: int | None  # a thumbnail's width; None: the file itself
    extension: str | None


def parse_name(name: str) -> FileName | None:
    match = _NAME.match(name)
    if match is None:
        return None
    width = int(match["width"]) if match["width"] else None
    if width is not None and width not in WIDTHS:
        return None
    return FileName(match["sha"], width, match["ext"])


def file_url(prefix: str, sha256: str, extension: str) -> str:
    return f"{prefix}/{sha256}{extension}"


def thumb_url(prefix: str, sha256: str, width: int) -> str:
    return f"{prefix}/{sha256}-{width}.jpg"


def srcset(prefix: str, sha256: str) -> str:
    return ", ".join(f"{thumb_url(prefix, sha256, w)} {w}w" for w in WIDTHS)


class FileServer:
    def __init__(self, store: MediaStore) -> None:
        self.store = store
        # What each file's bytes proved it to be (content never changes under a hash).
        self._types: OrderedDict[str, FileType] = OrderedDict()

    async def _checked_type(self, stored: StoredFile) -> FileType | None:
        known = self._types.get(stored.sha256)
        if known is not None:
            return known
        path = self.store.absolute(stored.path)
        try:
            found = await asyncio.to_thread(sniff_path, path, stored.mime_type)
        except OSError:
            return None  # missing on disk: the start-up check reports it
        self._types[stored.sha256] = found
        while len(self._types) > 4096:
            self._types.popitem(last=False)
        return found

    async def respond(
        self, stored: StoredFile, name: FileName, *, private: bool
    ) -> web.StreamResponse:
        checked = await self._checked_type(stored)
        if checked is None:
            raise web.HTTPNotFound()
        cache = f"{'private' if private else 'public'}, max-age={YEAR}, immutable"
        short = stored.sha256[:12]
        if name.width is None:
            if name.extension != checked.extension:
                raise web.HTTPNotFound()
            headers = response_headers(
                checked.mime_type, download_name(stored.original_name, checked, short)
            )
            path = self.store.absolute(stored.path)
        else:
            if checked.family != IMAGE:
                raise web.HTTPNotFound()
            try:
                path = await asyncio.to_thread(
                    make_thumbnail, self.store, stored.sha256, stored.path, name.width
                )
            except ThumbnailError:
                raise web.HTTPNotFound() from None
            headers = response_headers(MIME_TYPE, f"{short}-{name.width}.jpg")
        headers["Cache-Control"] = cache
        return web.FileResponse(path, headers=headers)
