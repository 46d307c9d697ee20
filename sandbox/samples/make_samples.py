"""Makes the sandbox's sample files (committed; run again only to change them).

    .venv/bin/python sandbox/samples/make_samples.py

harbin.jpg: a small picture drawn with Pillow (the console's `:photo` and `:album`).
letter.pdf: a one-page "scanned letter" made with Pillow (`:doc`).
voice.ogg:  three seconds of a waltz-like tune, Opus in Ogg as Telegram voice notes are
            (`:voice`); needs `opusenc` (Debian: apt-get install opus-tools).
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
RATE = 48_000


def photo(path: Path) -> None:
    """An onion dome against an evening sky: recognisably a picture, a few kilobytes."""
    width, height = 320, 240
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # sky from deep blue to warm orange
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=(int(40 + 200 * t), int(60 + 90 * t), int(140 - 60 * t))
        )
    draw.rectangle([130, 120, 190, 240], fill=(120, 70, 50))  # the drum
    draw.ellipse([118, 70, 202, 140], fill=(40, 110, 70))  # the onion dome
    draw.polygon([(160, 30), (150, 80), (170, 80)], fill=(40, 110, 70))
    draw.line([(160, 10), (160, 34)], fill=(230, 200, 90), width=3)  # the cross
    draw.line([(152, 18), (168, 18)], fill=(230, 200, 90), width=3)
    draw.rectangle([40, 170, 280, 240], fill=(110, 62, 45))  # the church's body
    for x in range(60, 270, 40):
        draw.rectangle([x, 190, x + 14, 220], fill=(250, 220, 140))  # lit windows
    image.save(path, "JPEG", quality=70, optimize=True)


def letter(path: Path) -> None:
    """A page of grey "handwriting" lines on cream paper, saved as a one-page PDF."""
    page = Image.new("L", (300, 420), 235)
    draw = ImageDraw.Draw(page)
    for row, y in enumerate(range(50, 380, 22)):
        right = 260 - (row * 37) % 80
        for x in range(30, right, 9):  # uneven strokes read as script at a glance
            draw.line([(x, y), (x + 6, y - 3 - (x * row) % 5)], fill=90, width=1)
    page.save(path, "PDF", resolution=72, quality=40)


def tune_wav(path: Path) -> None:
    """A-minor waltz figure, 3 s, mono, with a soft attack and decay on each note."""
    notes = [220.0, 261.6, 329.6, 261.6, 329.6, 392.0, 349.2, 329.6, 293.7]
    note_seconds = 3.0 / len(notes)
    samples = []
    for frequency in notes:
        count = int(RATE * note_seconds)
        for i in range(count):
            envelope = min(1.0, i / 400) * math.exp(-3.0 * i / count)
            samples.append(int(12_000 * envelope * math.sin(2 * math.pi * frequency * i / RATE)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def voice(path: Path) -> None:
    opusenc = shutil.which("opusenc")
    if opusenc is None:
        raise SystemExit("opusenc not found (Debian: apt-get install opus-tools)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "tune.wav"
        tune_wav(wav)
        subprocess.run(
            [opusenc, "--quiet", "--bitrate", "12", "--discard-comments", str(wav), str(path)],
            check=True,
        )


if __name__ == "__main__":
    photo(HERE / "harbin.jpg")
    letter(HERE / "letter.pdf")
    voice(HERE / "voice.ogg")
    for name in ("harbin.jpg", "letter.pdf", "voice.ogg"):
        print(name, (HERE / name).stat().st_size, "bytes")
