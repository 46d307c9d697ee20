"""What a member's file is, judged by its bytes, and how it may be shown.

A file a member uploads is data, never a page: a browser must not run it. So every file is
kept under an extension from a short allow-list, chosen from its first bytes (and, where
the bytes alone cannot tell, for example a .docx and an .xlsx are both ZIPs, the type the
member's app declared). Anything else, HTML, SVG, XHTML, scripts, XML or unknown, becomes
`application/octet-stream` with `.bin`. The member's file name is never consulted.

Only checked pictures and recordings are shown inside a page (`delivery_policy` says
"inline"); everything else is offered as a download. The book export and, later, the web
archive take both decisions from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

# How many leading bytes the checks read: enough for every signature below.
HEAD_BYTES = 4096

OCTET_STREAM = "application/octet-stream"

IMAGE = "image"
AUDIO = "audio"
DOCUMENT = "document"
DATA = "data"


@dataclass(frozen=True)
class FileType:
    mime_type: str
    extension: str
    family: str  # image | audio | document | data


BIN = FileType(OCTET_STREAM, ".bin", DATA)

_ALLOWED = (
    FileType("image/jpeg", ".jpg", IMAGE),
    FileType("image/png", ".png", IMAGE),
    FileType("image/webp", ".webp", IMAGE),
    FileType("image/gif", ".gif", IMAGE),
    # Scans of old prints often come as TIFF; browsers cannot show it, so it is a download.
    FileType("image/tiff", ".tif", DOCUMENT),
    FileType("audio/ogg", ".ogg", AUDIO),  # Telegram voice notes: Opus in Ogg
    FileType("audio/mpeg", ".mp3", AUDIO),
    FileType("audio/mp4", ".m4a", AUDIO),
    FileType("audio/wav", ".wav", AUDIO),
    FileType("application/pdf", ".pdf", DOCUMENT),
    FileType("application/rtf", ".rtf", DOCUMENT),
    FileType("text/plain", ".txt", DOCUMENT),
    FileType("application/msword", ".doc", DOCUMENT),
    FileType("application/vnd.ms-excel", ".xls", DOCUMENT),
    FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
        DOCUMENT,
    ),
    FileType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", DOCUMENT
    ),
    FileType("application/vnd.oasis.opendocument.text", ".odt", DOCUMENT),
    FileType("application/vnd.oasis.opendocument.spreadsheet", ".ods", DOCUMENT),
)
ALLOWED: dict[str, FileType] = {t.mime_type: t for t in _ALLOWED}

# Shown inside a page (an <img> or <audio>, or served inline): checked pictures and sound.
INLINE_TYPES = frozenset(t.mime_type for t in _ALLOWED if t.family in (IMAGE, AUDIO))

# Other names apps give the same types.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/opus": "audio/ogg",
    "audio/x-opus+ogg": "audio/ogg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/aac": "audio/mp4",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "text/rtf": "application/rtf",
}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc and .xls share this container
_ZIP = b"PK\x03\x04"  # .docx, .xlsx, .odt, .ods are ZIP files
_OLE2_TYPES = ("application/msword", "application/vnd.ms-excel")
_OOXML_TYPES = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
_ODF_TYPES = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)


def declared_type(mime_type: str | None) -> str:
    """The declared type in its usual spelling, without parameters (`; charset=...`)."""
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def _signature_type(head: bytes, declared: str) -> str | None:
    """The allow-listed type these first bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if declared == "audio/mpeg" and len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # a bare MPEG frame header, no ID3 tag
    if head[4:8] == b"ftyp" and (declared.startswith("audio/") or head[8:11] == b"M4A"):
        return "audio/mp4"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head.startswith(_OLE2):
        return declared if declared in _OLE2_TYPES else None
    if head.startswith(_ZIP):
        # OpenDocument writes its type, uncompressed, as the ZIP's first entry.
        if head[30:38] == b"mimetype":
            named = head[38:120].split(b"PK", 1)[0].decode("ascii", "replace")
            return named if named in _ODF_TYPES else None
        return declared if declared in _OOXML_TYPES else None
    if declared == "text/plain" and _is_text(head):
        return "text/plain"
    return None


def _is_text(head: bytes) -> bool:
    # Markup is not a letter: old browsers sniffed HTML even in text/plain.
    if b"\x00" in head or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a character cut at the end of the sample is forgiven.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def sniff(head: bytes, declared: str | None = None) -> FileType:
    """The file's type from its first bytes (HEAD_BYTES of them) and the declared type;
    `BIN` for anything not on the allow-list or whose bytes do not prove its type."""
    found = _signature_type(head, declared_type(declared))
    return ALLOWED[found] if found else BIN


def sniff_path(path: Path, declared: str | None = None) -> FileType:
    """`sniff` over the start of a file on disk."""
    with path.open("rb") as handle:
        return sniff(handle.read(HEAD_BYTES), declared)


def extension_for(mime_type: str) -> str:
    """The stored extension of a checked type; `.bin` for anything else."""
    found = ALLOWED.get(declared_type(mime_type))
    return found.extension if found else BIN.extension


Delivery = Literal["inline", "attachment"]


def delivery_policy(mime_type: str | None) -> Delivery:
    """Inline only for checked pictures and recordings; every other file is a download."""
    return "inline" if declared_type(mime_type) in INLINE_TYPES else "attachment"


def download_name(original_name: str | None, file_type: FileType, fallback: str) -> str:
    """A name to save the file under: the member's name without its own extension, plus
    the checked one (so `evil.html` is saved as `evil.bin`, never as a page)."""
    stem = (original_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = "".join(c for c in stem if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return (stem[:100] or fallback) + file_type.extension


def response_headers(mime_type: str | None, filename: str) -> dict[str, str]:
    """HTTP headers for serving a stored file: `nosniff` always, and a download
    (`attachment`, generic type) for anything that is not a checked picture or recording."""
    checked = declared_type(mime_type)
    policy = delivery_policy(checked)
    content_type = checked if checked in ALLOWED else OCTET_STREAM
    ascii_name = (
        filename.encode("ascii", "replace").decode("ascii").replace('"', "").replace("\\", "")
    )
    disposition = f"{policy}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return {
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
    }
