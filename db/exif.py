"""Remove location data from JPEGs without re-encoding the picture.

Members photograph old prints at home, so a phone's GPS tags would publish their address.
Only metadata segments are rewritten: the compressed image data is copied byte for byte,
so quality never degrades, and the date taken and the orientation stay.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
SOI = b"\xff\xd8"
APP1 = 0xE1
APP13 = 0xED  # Photoshop/IPTC: carries city, sublocation, country
SOS = 0xDA
XMP_PREFIX = b"http://ns.adobe.com/xap/1.0/"


class NotAnImage(ValueError):
    """The bytes are not an image Pillow can read (corrupt or another format)."""


def image_format(data: bytes) -> str:
    """Pillow's format name ("JPEG", "PNG", ...) after a full integrity check."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            image.verify()
        # verify() checks structure only; loading decodes the pixels (catches truncation).
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(str(exc)) from exc
    return fmt


def _clean_exif(segment: bytes) -> bytes:
    exif = Image.Exif()
    exif.load(segment)
    exif.get_ifd(EXIF_IFD)  # make sure the nested IFD (DateTimeOriginal) is written back
    if GPS_IFD in exif:
        del exif[GPS_IFD]
    return exif.tobytes()


def strip_jpeg_location(data: bytes) -> bytes:
    """Drop the EXIF GPS directory, XMP and IPTC segments; keep everything else."""
    if not data.startswith(SOI):
        raise NotAnImage("not a JPEG")
    out = bytearray(SOI)
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise NotAnImage("broken JPEG marker")
        marker = data[i + 1]
        if marker == SOS:
            out += data[i:]  # entropy-coded image data to the end, untouched
            return bytes(out)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        segment = data[i + 4 : i + 2 + length]
        if marker == APP1 and segment.startswith(b"Exif\x00\x00"):
            cleaned = _clean_exif(segment)
            out += bytes((0xFF, APP1)) + (len(cleaned) + 2).to_bytes(2, "big") + cleaned
        elif (marker == APP1 and segment.startswith(XMP_PREFIX)) or marker == APP13:
            pass  # XMP and IPTC may repeat the location in text form: drop them whole
        else:
            out += data[i : i + 2 + length]
        i += 2 + length
    raise NotAnImage("JPEG without image data")
