"""handlers/album_receipts.py: one receipt per album, sent once its parts stop coming."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handlers.album_receipts import AlbumReceipts
from handlers.i18n import build_i18n
from handlers.memoirs import album_receipt_text


async def test_one_receipt_per_album_after_the_last_part() -> None:
    sent: list[tuple[int, int, int]] = []

    async def send(chat_id: int, photos: int, others: int) -> None:
        sent.append((chat_id, photos, others))

    receipts = AlbumReceipts(quiet_seconds=0.1)
    for _ in range(3):
        receipts.saved(7, "album-a", photo=True, send=send)
        await asyncio.sleep(0.05)  # parts keep coming: the receipt keeps waiting
    receipts.saved(7, "album-a", photo=False, send=send)
    receipts.saved(8, "album-b", photo=True, send=send)  # someone else's album, apart
    assert sent == [] and len(receipts) == 2
    await asyncio.sleep(0.2)
    assert sorted(sent) == [(7, 3, 1), (8, 1, 0)]
    assert len(receipts) == 0

    # The same album id later (a new draft) starts a new count.
    receipts.saved(7, "album-a", photo=True, send=send)
    await asyncio.sleep(0.2)
    assert sent[-1] == (7, 1, 0)


async def test_a_receipt_that_cannot_be_sent_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def blocked(chat_id: int, photos: int, others: int) -> None:
        raise RuntimeError("Forbidden: bot was blocked by the user")

    receipts = AlbumReceipts(quiet_seconds=0.01)
    with caplog.at_level(logging.ERROR, logger="handlers.album_receipts"):
        receipts.saved(9, "album", photo=True, send=blocked)
        await asyncio.sleep(0.1)
    assert "could not send an album receipt to chat 9" in caplog.text


def test_the_receipt_counts_photos_or_files_in_the_members_language() -> None:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        assert album_receipt_text(4, 0).startswith("📷 Album saved. Photos: 4.")
        assert album_receipt_text(2, 1).startswith("📎 Album saved. Files: 3.")
    with i18n.context(), i18n.use_locale("ru"):
        assert album_receipt_text(4, 0).startswith("📷 Альбом сохранён. Фото: 4.")
