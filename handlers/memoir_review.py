"""/review and /export for organisers."""

from __future__ import annotations

from aiogram import Router

router = Router(name="memoir_review")
