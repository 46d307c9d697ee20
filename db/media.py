"""Content-addressed file store under MEDIA_DIR: `ab/cd/<sha256>.<ext>`.

Write order makes crashes harmless: temp file → fsync → checksum re-read → atomic rename
→ (caller) database commit. A crash before the rename leaves only a temp file; a crash
between rename and commit leaves an unrecorded file — both found by `check_media`.
The same content is stored once, whoever sends it and however often.

Types are checked, not believed: pictures are opened by Pillow, everything else is judged by
its first bytes (db/filetypes.py); a file that is not on the allow-list is stored as
`application/octet-stream` with `.bin`, so nothing a member sends can run as a web page.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.exif import NotAnImage, image_format, strip_jpeg_location
from db.filetypes import AUDIO, BIN, HEAD_BYTES, IMAGE, extension_for, sniff

TMP_DIR = ".tmp"
# Thumbnails (db/thumbnails.py) are derived from a stored file and named by its hash: they
# live beside the store, are never recorded, and go when their source goes.
THUMBS_DIR = ".thumbs"
CHUNK = 1 << 20
# Pictures are checked and cleaned in memory; anything bigger is kept as a plain document.
MAX_IMAGE_BYTES = 64 * 1024 * 1024

KIND_PHOTO = "photo"
KIND_VOICE = "voice"
KIND_DOCUMENT = "document"

# Pictures Pillow reads that are kept as pictures; other formats it knows (BMP, ICO, PSD...)
# are kept as plain data (db/filetypes.py explains why the list is short).
_MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
}


class ChecksumMismatch(OSError):
    """What reached the disk is not what was written: nothing is recorded."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    path: str  # relative to the store root
    size: int
    mime_type: str
    kind: str
    # True when a file sent as a photo could not be read as an image and was kept as-is.
    demoted: bool = False


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class MediaStore:
    """Synchronous file operations; call from async code through `asyncio.to_thread`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def tmp_dir(self) -> Path:
        return self.root / TMP_DIR

    def absolute(self, relative: str) -> Path:
        return self.root / relative

    def new_temp_path(self) -> Path:
        """A fresh path inside the store (same filesystem, so the final rename is atomic)."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
        os.close(fd)
        return Path(name)

    # ------------------------------------------------------------------ writing

    def put_bytes(
        self, data: bytes, *, kind: str, mime_type: str, original_name: str | None = None
    ) -> StoredBlob:
        temp = self.new_temp_path()
        try:
            temp.write_bytes(data)
            return self.put_file(temp, kind=kind, mime_type=mime_type, original_name=original_name)
        finally:
            temp.unlink(missing_ok=True)

    def put_file(
        self, source: Path, *, kind: str, mime_type: str, original_name: str | None = None
    ) -> StoredBlob:
        """Store a downloaded file (which is consumed: moved or deleted).

        `mime_type` is what the member's app declared; the stored type is what the bytes
        prove it to be. `original_name` is kept by the caller only for display."""
        del original_name  # never used to decide a type: it is the member's to choose
        demoted = False
        with source.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        sniffed = sniff(head, mime_type)
        looks_like_image = (
            kind == KIND_PHOTO or mime_type.startswith("image/") or sniffed.family == IMAGE
        )
        if looks_like_image and source.stat().st_size <= MAX_IMAGE_BYTES:
            data = source.read_bytes()
            try:
                checked = _MIME_BY_FORMAT.get(image_format(data))
                if checked is None:
                    raise NotAnImage("not a picture format the archive keeps")
                if checked == "image/jpeg":
                    data = strip_jpeg_location(data)
                source.unlink(missing_ok=True)
                return self._commit_bytes(data, kind=kind, mime_type=checked)
            except NotAnImage:
                # A corrupt picture is still someone's memory: keep the bytes untouched.
                demoted = kind == KIND_PHOTO
                kind = KIND_DOCUMENT
                if sniffed.family == IMAGE:
                    sniffed = BIN  # its signature lied: plain data
        elif looks_like_image:
            kind = KIND_DOCUMENT
        if kind == KIND_VOICE and sniffed.family != AUDIO:
            kind = KIND_DOCUMENT  # not a recording a browser can play: offered as a file
        return self._commit_file(source, kind=kind, mime_type=sniffed.mime_type, demoted=demoted)

    def _commit_bytes(self, data: bytes, *, kind: str, mime_type: str) -> StoredBlob:
        temp = self.new_temp_path()
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        expected = hashlib.sha256(data).hexdigest()
        return self._finish(temp, expected, len(data), kind=kind, mime_type=mime_type)

    def _commit_file(
        self,
        source: Path,
        *,
        kind: str,
        mime_type: str,
        demoted: bool,
    ) -> StoredBlob:
        # Copy through a hash so the checksum is of what we wrote, then verify the disk copy.
        temp = self.new_temp_path()
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as src, temp.open("wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        source.unlink(missing_ok=True)
        return self._finish(
            temp,
            digest.hexdigest(),
            size,
            kind=kind,
            mime_type=mime_type,
            demoted=demoted,
        )

    def _finish(
        self,
        temp: Path,
        expected: str,
        size: int,
        *,
        kind: str,
        mime_type: str,
        demoted: bool = False,
    ) -> StoredBlob:
        try:
            if _sha256_of(temp) != expected:
                raise ChecksumMismatch(f"checksum mismatch writing {expected}")
            relative = f"{expected[:2]}/{expected[2:4]}/{expected}" + extension_for(mime_type)
            final = self.absolute(relative)
            if final.exists() and final.stat().st_size == size:
                temp.unlink()  # the same content is already stored: keep one copy
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, final)
                _fsync_dir(final.parent)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredBlob(expected, relative, size, mime_type, kind, demoted)

    # ------------------------------------------------------------------ removing

    def remove(self, relative: str) -> None:
        """Delete one stored file (the caller checked that no row still refers to it)."""
        path = self.absolute(relative)
        path.unlink(missing_ok=True)
        for parent in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only succeeds when empty
        self.remove_thumbnails(path.name.split(".", 1)[0])

    def thumbnail_dir(self, sha256: str) -> Path:
        return self.root / THUMBS_DIR / sha256[:2]

    def remove_thumbnails(self, sha256: str) -> None:
        """A removed file's thumbnails go with it: a deleted photo is not shown anywhere."""
        folder = self.thumbnail_dir(sha256)
        if not folder.exists():
            return
        for thumb in folder.glob(f"{sha256}-*"):
            thumb.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()

    def iter_files(self) -> list[str]:
        """Relative paths of every stored file (temp files excluded)."""
        found: list[str] = []
        if not self.root.exists():
            return found
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root:
                dirnames[:] = [d for d in dirnames if d not in (TMP_DIR, THUMBS_DIR)]
            for name in filenames:
                found.append(Path(dirpath, name).relative_to(self.root).as_posix())
        return found

    def temp_files(self) -> list[Path]:
        return sorted(self.tmp_dir.glob("*")) if self.tmp_dir.exists() else []

    def clear_temp(self) -> int:
        """Temp files are never recorded, so at start-up they are safe to delete."""
        removed = 0
        for path in self.temp_files():
            path.unlink(missing_ok=True)
            removed += 1
        return removed
