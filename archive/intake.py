"""Fetch a file from Telegram into the media store (streamed to disk, never whole in memory)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from db.media import KIND_DOCUMENT, KIND_PHOTO, KIND_VOICE, MediaStore, StoredBlob

# Only used in the member-facing explanation; the code itself never assumes it: a local
# Bot API server (TELEGRAM_API_BASE) serves bigger files and we simply try.
PUBLIC_API_DOWNLOAD_MB = 20
# Generous: a slow link downloading a big scan should not time out after aiogram's 30 s.
DOWNLOAD_TIMEOUT = 600


class FileTooBig(Exception):
    """The Bot API refused to serve this file ("file is too big")."""


@dataclass(frozen=True)
class Incoming:
    """The file part of a member's message, whatever its Telegram type."""

    file_id: str
    file_unique_id: str
    file_size: int | None
    kind: str
    mime_type: str
    original_name: str | None
    caption: str | None


def incoming_file(message: Message) -> Incoming | None:
    """Photos (largest size), voice notes, audio and documents; None for anything else."""
    caption = message.caption
    if message.photo:
        best = message.photo[-1]
        return Incoming(
            best.file_id,
            best.file_unique_id,
            best.file_size,
            KIND_PHOTO,
            "image/jpeg",
            None,
            caption,
        )
    if message.voice:
        v = message.voice
        return Incoming(
            v.file_id,
            v.file_unique_id,
            v.file_size,
            KIND_VOICE,
            v.mime_type or "audio/ogg",
            None,
            caption,
        )
    if message.audio:
        a = message.audio
        return Incoming(
            a.file_id,
            a.file_unique_id,
            a.file_size,
            KIND_VOICE,
            a.mime_type or "audio/mpeg",
            a.file_name,
            caption,
        )
    if message.document and not message.animation:
        d = message.document
        return Incoming(
            d.file_id,
            d.file_unique_id,
            d.file_size,
            KIND_DOCUMENT,
            d.mime_type or "application/octet-stream",
            d.file_name,
            caption,
        )
    return None


async def fetch_and_store(bot: Bot, store: MediaStore, item: Incoming) -> StoredBlob:
    """Download through getFile into a temp file of the store, then store it safely."""
    try:
        file = await bot.get_file(item.file_id)
    except TelegramBadRequest as exc:
        if "too big" in exc.message.lower():
            raise FileTooBig(item.file_size) from exc
        raise
    temp = await asyncio.to_thread(store.new_temp_path)
    try:
        assert file.file_path is not None
        await bot.download_file(file.file_path, destination=temp, timeout=DOWNLOAD_TIMEOUT)
        return await asyncio.to_thread(
            store.put_file,
            temp,
            kind=item.kind,
            mime_type=item.mime_type,
            original_name=item.original_name,
        )
    finally:
        await asyncio.to_thread(temp.unlink, True)
