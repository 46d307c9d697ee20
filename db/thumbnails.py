"""Smaller copies of stored photos for web pages, made with Pillow on first use.

A thumbnail is named by its source's content hash and its width (`.thumbs/ab/<sha>-640.jpg`
under MEDIA_DIR), so its address never changes meaning and can be cached for a year; it is
never recorded in the database, can be made again at any time, and is removed with its
source (`MediaStore.remove`). Re-encoding keeps no metadata at all (no EXIF, no GPS) and
turns the picture upright as the camera's orientation tag said.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from db.media import MediaStore

WIDTHS = (320, 640, 1280)
QUALITY = 78
MIME_TYPE = "image/jpeg"


class ThumbnailError(OSError):
    """The source could not be read as a picture."""


def thumbnail_path(store: MediaStore, sha256: str, width: int) -> Path:
    return store.thumbnail_dir(sha256) / f"{sha256}-{width}.jpg"


def make_thumbnail(store: MediaStore, sha256: str, source: str, width: int) -> Path:
    """The thumbnail of stored file `source` (relative path) at `width` pixels at most;
    made now if missing. Synchronous: call through `asyncio.to_thread`."""
    if width not in WIDTHS:
        raise ValueError(width)
    target = thumbnail_path(store, sha256, width)
    if target.exists():
        return target
    try:
        with Image.open(store.absolute(source)) as image:
            image.draft("RGB", (width, width * 4))  # JPEG: decode at a reduced scale
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(str(exc)) from exc
    if picture.width > width:
        picture.thumbnail((width, max(1, picture.height * width // picture.width) + 1))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            picture.save(handle, "JPEG", quality=QUALITY, optimize=True, progressive=True)
        os.replace(temp, target)  # two requests making the same one: either copy is fine
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
