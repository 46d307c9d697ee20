"""A ZIP writer whose memory does not grow with the number of entries.

The standard `zipfile.ZipFile` keeps a `ZipInfo` per entry until it closes, to write the
central directory at the end: about 520 bytes an entry, measured, so a book of 100,000
memoirs with a quarter of a million photos held some 180 MB. Here each entry's central
directory record is written to a temporary file on disk as soon as the entry is done, and
copied after the last one. Memory is the same for ten entries or ten million.

The output must be a seekable file: sizes and the CRC are patched into each local header
once the entry is written (no data descriptors, which some unzip tools handle badly).
ZIP64 records are added where counts, sizes or offsets outgrow the classic format.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")
_END64 = struct.Struct("<4sQHHLLQQQQ")
_LOCATOR64 = struct.Struct("<4sLQL")
_ZIP64_EXTRA = 0x0001

STORED = 0
DEFLATED = 8
_UTF8_NAMES = 0x800
_VERSION = 20  # deflate
_VERSION64 = 45
_MADE_BY_UNIX = 3 << 8
_FILE_MODE = 0o100644 << 16
_BUFFER = 1 << 16
COPY_CHUNK = 1 << 20

LIMIT32 = 0xFFFFFFFF
LIMIT16 = 0xFFFF


class ZipEntryTooLarge(ValueError):
    """A streamed entry of unknown size grew past 4 GiB without ZIP64 in its header."""


def _dos_time(moment: float) -> tuple[int, int]:
    t = time.localtime(moment)
    year = max(t.tm_year, 1980)
    date = (year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday
    return t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2, date


class _Entry:
    """One entry being written: data goes through the compressor straight to the file."""

    def __init__(self, out: IO[bytes], compress: bool) -> None:
        self._out = out
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, -15) if compress else None
        self._pending = bytearray()
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def write(self, data: bytes) -> None:
        # Templates yield many tiny strings: gather them before compressing.
        self._pending += data
        if len(self._pending) >= _BUFFER:
            self._push()

    def write_text(self, text: str) -> None:
        self.write(text.encode("utf-8"))

    def _push(self) -> None:
        if not self._pending:
            return
        data = bytes(self._pending)
        self._pending.clear()
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        if self._compressor is not None:
            data = self._compressor.compress(data)
        self._out.write(data)
        self.compressed += len(data)

    def finish(self) -> None:
        self._push()
        if self._compressor is not None:
            tail = self._compressor.flush()
            self._out.write(tail)
            self.compressed += len(tail)


class StreamingZip:
    """Write entries one after another; `close()` (or the `with` block) finishes the file."""

    def __init__(
        self,
        path: Path,
        *,
        spool_dir: Path | None = None,
        zip64_entries: int = LIMIT16,
        zip64_bytes: int = LIMIT32,
    ) -> None:
        # The thresholds are parameters only so tests can reach the ZIP64 paths cheaply.
        self._zip64_entries = zip64_entries
        self._zip64_bytes = zip64_bytes
        self._out: IO[bytes] = path.open("wb")
        self._directory: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - closed by close() or abort()
        self._time, self._date = _dos_time(time.time())
        self._busy = False
        self.entries = 0
        self.closed = False

    def __enter__(self) -> StreamingZip:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abort()

    @contextmanager
    def open(
        self, name: str, *, compress: bool = True, size: int | None = None
    ) -> Iterator[_Entry]:
        """An entry to write into; `size`, when known, lets a huge file get ZIP64 headers."""
        if self._busy or self.closed:
            raise ValueError("one entry at a time, and only before close()")
        self._busy = True
        encoded = name.encode("utf-8")
        flags = _UTF8_NAMES if not name.isascii() else 0
        # Deflate can grow incompressible data a little; leave room as zipfile does.
        big = size is not None and size * 1.05 > self._zip64_bytes
        offset = self._out.tell()
        extra = struct.pack("<HHQQ", _ZIP64_EXTRA, 16, 0, 0) if big else b""
        method = DEFLATED if compress else STORED
        self._out.write(
            _LOCAL.pack(
                b"PK\x03\x04",
                _VERSION64 if big else _VERSION,
                flags,
                method,
                self._time,
                self._date,
                0,
                LIMIT32 if big else 0,
                LIMIT32 if big else 0,
                len(encoded),
                len(extra),
            )
        )
        self._out.write(encoded)
        self._out.write(extra)
        entry = _Entry(self._out, compress)
        try:
            yield entry
            entry.finish()
        finally:
            self._busy = False
        if not big and max(entry.size, entry.compressed) >= self._zip64_bytes:
            raise ZipEntryTooLarge(f"{name}: {entry.size} bytes without a ZIP64 header")
        end = self._out.tell()
        self._out.seek(offset + 14)
        if big:
            self._out.write(struct.pack("<L", entry.crc))
            self._out.seek(offset + _LOCAL.size + len(encoded) + 4)
            self._out.write(struct.pack("<QQ", entry.size, entry.compressed))
        else:
            self._out.write(struct.pack("<LLL", entry.crc, entry.compressed, entry.size))
        self._out.seek(end)
        self._record(encoded, flags, method, entry, offset)

    def write_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        with self.open(name, compress=compress, size=len(data)) as entry:
            entry.write(data)

    def write_file(
        self, name: str, source: IO[bytes], size: int, *, compress: bool, head: bytes = b""
    ) -> None:
        """Copy an open file in chunks; `head` is what the caller already read from it."""
        with self.open(name, compress=compress, size=size) as entry:
            entry.write(head)
            while chunk := source.read(COPY_CHUNK):
                entry.write(chunk)

    def _record(self, encoded: bytes, flags: int, method: int, entry: _Entry, offset: int) -> None:
        wide = []  # ZIP64 extra fields, in the order the format requires
        size, compressed, where = entry.size, entry.compressed, offset
        if size >= self._zip64_bytes:
            wide.append(size)
            size = LIMIT32
        if compressed >= self._zip64_bytes:
            wide.append(compressed)
            compressed = LIMIT32
        if offset >= self._zip64_bytes:
            wide.append(offset)
            where = LIMIT32
        extra = struct.pack(f"<HH{len(wide)}Q", _ZIP64_EXTRA, 8 * len(wide), *wide) if wide else b""
        version = _VERSION64 if wide else _VERSION
        self._directory.write(
            _CENTRAL.pack(
                b"PK\x01\x02",
                _MADE_BY_UNIX | version,
                version,
                flags,
                method,
                self._time,
                self._date,
                entry.crc,
                compressed,
                size,
                len(encoded),
                len(extra),
                0,
                0,
                0,
                _FILE_MODE,
                where,
            )
        )
        self._directory.write(encoded)
        self._directory.write(extra)
        self.entries += 1

    def close(self) -> None:
        if self.closed:
            return
        start = self._out.tell()
        self._directory.seek(0)
        shutil.copyfileobj(self._directory, self._out, COPY_CHUNK)
        self._directory.close()
        end = self._out.tell()
        length = end - start
        count = self.entries
        wide = (
            count >= self._zip64_entries
            or start >= self._zip64_bytes
            or length >= self._zip64_bytes
        )
        if wide:
            self._out.write(
                _END64.pack(
                    b"PK\x06\x06",
                    _END64.size - 12,
                    _MADE_BY_UNIX | _VERSION64,
                    _VERSION64,
                    0,
                    0,
                    count,
                    count,
                    length,
                    start,
                )
            )
            self._out.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end, 1))
        self._out.write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(count, LIMIT16),
                min(count, LIMIT16),
                min(length, LIMIT32),
                min(start, LIMIT32),
                0,
            )
        )
        self._out.close()
        self.closed = True

    def abort(self) -> None:
        """Close without finishing (the caller removes the half-written file)."""
        self._directory.close()
        self._out.close()
        self.closed = True
