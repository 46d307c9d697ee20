"""/memoir, /my, /archive: members share, list and browse memoirs."""

from __future__ import annotations

from aiogram import Router

router = Router(name="memoirs")
