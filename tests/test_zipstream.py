"""The streaming ZIP writer: readable by zipfile and unzip, ZIP64 where needed, flat memory."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from archive.zipstream import StreamingZip, ZipEntryTooLarge


def fill(zf: StreamingZip) -> dict[str, bytes]:
    expected = {
        "index.html": "<p>Харбин</p>\n".encode() * 500,
        "media/a.jpg": os.urandom(3000),
        "media/empty.txt": b"",
        "страница.html": "<p>松花江</p>".encode(),
    }
    zf.write_bytes("index.html", expected["index.html"])
    zf.write_file("media/a.jpg", io.BytesIO(expected["media/a.jpg"][10:]), 3000, compress=False,
                  head=expected["media/a.jpg"][:10])  # fmt: skip
    zf.write_bytes("media/empty.txt", b"")
    with zf.open("страница.html") as entry:
        for piece in ("<p>", "松花江", "</p>"):
            entry.write_text(piece)
    return expected


def check(path: Path, expected: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every CRC matches
        assert zf.namelist() == list(expected)
        for name, data in expected.items():
            assert zf.read(name) == data
        assert zf.getinfo("media/a.jpg").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("index.html").compress_type == zipfile.ZIP_DEFLATED
    if shutil.which("unzip"):  # a second, independent reader where the machine has one
        tested = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_entries_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "book.zip"
    with StreamingZip(path) as zf:
        expected = fill(zf)
    check(path, expected)


def test_zip64_records_when_counts_and_offsets_outgrow_the_classic_format(
    tmp_path: Path,
) -> None:
    # The thresholds are lowered so a few small entries take the ZIP64 paths: the end
    # records, 64-bit offsets in the directory, and 64-bit sizes in a local header.
    path = tmp_path / "big.zip"
    with StreamingZip(path, zip64_entries=3, zip64_bytes=2000) as zf:
        zf.write_bytes("first.txt", b"small")
        zf.write_bytes("big.bin", os.urandom(2500), compress=False)
        zf.write_bytes("late.txt", b"after the limit")
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.getinfo("late.txt").header_offset > 2000
        assert zf.read("late.txt") == b"after the limit"
        assert len(zf.read("big.bin")) == 2500
    if shutil.which("unzip"):
        assert subprocess.run(["unzip", "-tq", str(path)], capture_output=True).returncode == 0


def test_a_streamed_entry_that_outgrows_its_header_is_refused(tmp_path: Path) -> None:
    zf = StreamingZip(tmp_path / "x.zip", zip64_bytes=100)
    with pytest.raises(ZipEntryTooLarge), zf.open("page.html", compress=False) as entry:
        entry.write(b"x" * 200)
    zf.abort()


def test_memory_does_not_grow_with_the_number_of_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    tracemalloc.start()
    try:
        with StreamingZip(path) as zf:
            zf.write_bytes("warm-up", b"x")
            before, _ = tracemalloc.get_traced_memory()
            for n in range(20_000):
                zf.write_bytes(f"media/{n:064x}.jpg", b"x", compress=False)
            after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # zipfile.ZipFile holds ~520 bytes per entry here (10 MB); this writer holds none.
    assert after - before < 100_000
    with zipfile.ZipFile(path) as zf:
        assert len(zf.infolist()) == 20_001
