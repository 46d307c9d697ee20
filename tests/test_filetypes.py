"""Members' files are judged by their bytes: an allow-list, and `.bin` for the rest."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from db.filetypes import (
    BIN,
    OCTET_STREAM,
    delivery_policy,
    download_name,
    extension_for,
    response_headers,
    sniff,
)
from db.media import KIND_DOCUMENT, KIND_PHOTO, KIND_VOICE, MediaStore

EVIL_HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EVIL_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, fmt)
    return buffer.getvalue()


def zip_bytes(first_name: str, first_data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo(first_name), first_data)  # stored, as ODF requires
        zf.writestr("content.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "declared", "mime", "extension"),
    [
        (picture("JPEG"), OCTET_STREAM, "image/jpeg", ".jpg"),
        (picture("PNG"), "image/png", "image/png", ".png"),
        (picture("GIF"), "image/gif", "image/gif", ".gif"),
        (picture("WEBP"), None, "image/webp", ".webp"),
        (b"OggS\x00\x02" + bytes(20), "audio/opus", "audio/ogg", ".ogg"),
        (b"ID3\x04\x00" + bytes(20), "audio/mpeg", "audio/mpeg", ".mp3"),
        (b"\xff\xfb\x90\x64" + bytes(20), "audio/mp3", "audio/mpeg", ".mp3"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/x-m4a", "audio/mp4", ".m4a"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav", "audio/wav", ".wav"),
        (b"%PDF-1.7\n", "text/html", "application/pdf", ".pdf"),  # the bytes decide
        (b"{\\rtf1\\ansi", "text/rtf", "application/rtf", ".rtf"),
        ("Письмо деда.\n".encode(), "text/plain; charset=utf-8", "text/plain", ".txt"),
        (zip_bytes("word/document.xml", b"<w/>"), DOCX, DOCX, ".docx"),
        (
            zip_bytes("mimetype", b"application/vnd.oasis.opendocument.text"),
            OCTET_STREAM,
            "application/vnd.oasis.opendocument.text",
            ".odt",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), "application/msword", None, ".doc"),
    ],
)
def test_allowed_types_are_recognised_by_their_bytes(
    head: bytes, declared: str | None, mime: str | None, extension: str
) -> None:
    found = sniff(head, declared)
    assert found.extension == extension
    assert found.mime_type == (mime or "application/msword")


@pytest.mark.parametrize(
    ("head", "declared"),
    [
        (EVIL_HTML, "text/html"),
        (EVIL_HTML, "text/plain"),  # markup is not accepted as a plain letter
        (EVIL_HTML, "image/jpeg"),  # a declared picture whose bytes are a page
        (EVIL_SVG, "image/svg+xml"),
        (
            b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'/>",
            "application/xhtml+xml",
        ),
        (b"alert(1)", "application/javascript"),
        (b"<note/>", "text/xml"),
        (b"\x00\x01\x02 random", OCTET_STREAM),
        (zip_bytes("word/document.xml", b"<w/>"), OCTET_STREAM),  # a ZIP of unknown purpose
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), OCTET_STREAM),
        (b"MZ\x90\x00", "application/x-msdownload"),
    ],
)
def test_everything_else_is_plain_data(head: bytes, declared: str) -> None:
    assert sniff(head, declared) == BIN


def test_stored_extension_comes_only_from_a_checked_type() -> None:
    assert extension_for("image/jpeg") == ".jpg"
    assert extension_for("text/html") == ".bin"
    assert extension_for("image/svg+xml") == ".bin"
    assert extension_for("application/xhtml+xml") == ".bin"


def test_only_checked_pictures_and_recordings_are_inline() -> None:
    for mime in ("image/jpeg", "image/png", "image/webp", "image/gif", "audio/ogg", "audio/mpeg"):
        assert delivery_policy(mime) == "inline", mime
    assert delivery_policy("IMAGE/JPEG; charset=binary") == "inline"
    for mime in (
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/javascript",
        "application/pdf",
        "text/plain",
        "image/tiff",
        OCTET_STREAM,
        "",
        None,
    ):
        assert delivery_policy(mime) == "attachment", mime


def test_response_headers_make_a_download_with_nosniff() -> None:
    page = response_headers("text/html", "evil.bin")
    assert page["Content-Type"] == OCTET_STREAM
    assert page["Content-Disposition"].startswith("attachment;")
    assert page["X-Content-Type-Options"] == "nosniff"
    letter = response_headers("application/pdf", "Письмо.pdf")
    assert letter["Content-Type"] == "application/pdf"
    assert letter["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%D0%9F%D0%B8%D1%81%D1%8C%D0%BC%D0%BE.pdf" in letter["Content-Disposition"]
    )
    photo = response_headers("image/jpeg", "1.jpg")
    assert photo["Content-Disposition"].startswith("inline;")
    assert photo["X-Content-Type-Options"] == "nosniff"


def test_download_name_keeps_the_members_words_but_never_their_extension() -> None:
    assert download_name("evil.html", BIN, "document") == "evil.bin"
    assert download_name("письмо.docx", sniff(b"%PDF-1", None), "document") == "письмо.pdf"
    assert download_name("../../etc/x.svg", BIN, "document") == "x.bin"
    assert download_name(None, BIN, "document") == "document.bin"
    assert download_name('<a">.html', BIN, "doc") == "a.bin"


# ---------------------------------------------------------------- the store keeps to it


def test_a_web_page_is_stored_as_plain_data_whatever_its_name(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    blob = store.put_bytes(
        EVIL_HTML, kind=KIND_DOCUMENT, mime_type="text/html", original_name="evil.html"
    )
    assert blob.path.endswith(".bin") and blob.mime_type == OCTET_STREAM
    assert store.absolute(blob.path).read_bytes() == EVIL_HTML  # kept unchanged
    # A page named like a photo is still a page.
    disguised = store.put_bytes(
        EVIL_HTML + b" ", kind=KIND_DOCUMENT, mime_type="image/jpeg", original_name="cat.jpg"
    )
    assert disguised.path.endswith(".bin") and disguised.kind == KIND_DOCUMENT
    # And a real picture named like a page is a picture.
    jpeg = store.put_bytes(
        picture("JPEG"), kind=KIND_DOCUMENT, mime_type=OCTET_STREAM, original_name="x.html"
    )
    assert jpeg.path.endswith(".jpg") and jpeg.mime_type == "image/jpeg"


def test_svg_sent_as_a_photo_is_kept_as_plain_data(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    blob = store.put_bytes(
        EVIL_SVG, kind=KIND_PHOTO, mime_type="image/svg+xml", original_name="logo.svg"
    )
    assert blob.kind == KIND_DOCUMENT and blob.demoted
    assert blob.path.endswith(".bin") and blob.mime_type == OCTET_STREAM


def test_a_picture_format_off_the_list_is_kept_as_plain_data(tmp_path: Path) -> None:
    blob = MediaStore(tmp_path).put_bytes(picture("BMP"), kind=KIND_PHOTO, mime_type="image/bmp")
    assert blob.kind == KIND_DOCUMENT and blob.path.endswith(".bin")


def test_a_recording_must_sound_like_one(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    voice = store.put_bytes(b"OggS\x00\x02" + bytes(40), kind=KIND_VOICE, mime_type="audio/ogg")
    assert voice.kind == KIND_VOICE and voice.path.endswith(".ogg")
    fake = store.put_bytes(EVIL_HTML, kind=KIND_VOICE, mime_type="audio/mpeg")
    assert fake.kind == KIND_DOCUMENT and fake.path.endswith(".bin")


def test_office_documents_keep_their_extension(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    docx = store.put_bytes(
        zip_bytes("word/document.xml", b"<w/>"), kind=KIND_DOCUMENT, mime_type=DOCX
    )
    assert docx.path.endswith(".docx") and docx.mime_type == DOCX
