"""Files members send in Telegram: which part of a message is the file, and how to fetch it
(getFile, then a streamed download) for the archive's intake."""

from __future__ import annotations

from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from archive.intake import Download, FileTooBig, Incoming
from db.media import KIND_DOCUMENT, KIND_PHOTO, KIND_VOICE, MediaStore
from ground.context import AppContext

# Generous: a slow link downloading a big scan should not time out after aiogram's 30 s.
DOWNLOAD_TIMEOUT = 600


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


def telegram_download(bot: Bot) -> Download:
    async def download(file_id: str, destination: Path) -> None:
        try:
            file = await bot.get_file(file_id)
        except TelegramBadRequest as exc:
            if "too big" in exc.message.lower():
                raise FileTooBig(file_id) from exc
            raise
        assert file.file_path is not None
        await bot.download_file(file.file_path, destination=destination, timeout=DOWNLOAD_TIMEOUT)

    return download


def store_of(app: AppContext) -> MediaStore:
    """The media store the settings name (memoirs, gravestones and talks share it)."""
    return MediaStore(app.settings.media_dir)
