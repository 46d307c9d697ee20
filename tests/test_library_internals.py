"""Speed work reaches into private parts of three libraries; pyproject.toml pins each to the
version these tests ran on. If an upgrade moves what we rely on, these fail and say where.

- aiogram: bot/routing.py copies `observer._handler.filters` to join routers;
  handlers/callbacks.py parses with `CallbackData.unpack.__func__`.
- aiosqlite: db/sqlite_loop.py overrides `Connection._execute` and reads `_connection`,
  `_running` and `_thread`.
- SQLAlchemy: db/engine.py hands its aiosqlite dialect `async_creator_fn`.
"""

from __future__ import annotations

import inspect
import re
import sqlite3
import tomllib
from functools import partial
from importlib.metadata import version
from pathlib import Path

import aiosqlite
import pytest
from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from sqlalchemy.dialects.sqlite import aiosqlite as sqlalchemy_aiosqlite

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
PINNED = ("aiogram", "aiosqlite", "SQLAlchemy")


def _pins() -> dict[str, str]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = {}
    for spec in dependencies:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([0-9.]+)", spec)
        if found:
            pins[found.group(1)] = found.group(3)
    return pins


@pytest.mark.parametrize("library", PINNED)
def test_the_library_is_pinned_to_the_version_installed(library: str) -> None:
    pins = _pins()
    assert library in pins, f"{library} must stay pinned (==) in pyproject.toml: see this file"
    assert version(library) == pins[library], (
        f"{library} {version(library)} is installed but {pins[library]} is pinned and tested"
    )


def test_aiogram_observers_keep_their_filters_where_routing_reads_them() -> None:
    router = Router()
    handler = getattr(router.message, "_handler", None)
    assert handler is not None and hasattr(handler, "filters"), (
        "aiogram changed: TelegramEventObserver._handler.filters is gone (bot/routing.py)"
    )


def test_aiogram_callback_data_unpack_is_a_classmethod() -> None:
    unpack = CallbackData.__dict__.get("unpack")
    assert isinstance(unpack, classmethod), (
        "aiogram changed: CallbackData.unpack is no classmethod (handlers/callbacks.py)"
    )


def test_aiosqlite_connection_keeps_the_parts_sqlite_loop_overrides() -> None:
    signature = inspect.signature(aiosqlite.Connection._execute)
    assert list(signature.parameters) == ["self", "fn", "args", "kwargs"], (
        "aiosqlite changed: Connection._execute(fn, *args, **kwargs) (db/sqlite_loop.py)"
    )
    connection = aiosqlite.Connection(partial(sqlite3.connect, ":memory:"), 64)
    for name in ("_connection", "_running", "_thread"):
        assert hasattr(connection, name), (
            f"aiosqlite changed: Connection.{name} is gone (db/sqlite_loop.py)"
        )


def test_sqlalchemy_aiosqlite_dialect_still_takes_an_async_creator() -> None:
    source = inspect.getsource(sqlalchemy_aiosqlite)
    assert "async_creator_fn" in source, (
        "SQLAlchemy changed: its aiosqlite dialect no longer takes async_creator_fn (db/engine.py)"
    )
