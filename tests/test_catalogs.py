"""Every user-facing string is translated in ru, en and zh, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ground.i18n import LOCALES_DIR, compile_catalogs, resolve_locale

ROOT = Path(__file__).resolve().parent.parent
# `t` is the local shorthand for i18n.gettext(..., locale=member.locale) outside updates.
KEYWORDS = {"_": None, "__": None, "N_": None, "t": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for folder in (
        "bot",
        "handlers",
        "web",
        "scheduling",
        "archive",
        "burials",
        "programme",
        "delivery",
        "db",
        "ground",
    ):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    # The web pages' words live in the templates (babel.cfg extracts them the same way).
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "web" / "templates",
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        keywords={"_": None, "gettext": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return source_messages()


@pytest.mark.parametrize("locale", ["ru", "en", "zh"])
def test_catalog_translates_every_source_message(locale: str, messages: set[str]) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated: dict[str, tuple[str, ...]] = {}
    for m in catalog:
        if m.id:
            key = m.id if isinstance(m.id, str) else m.id[0]
            translated[key] = (m.string,) if isinstance(m.string, str) else tuple(m.string)
    missing = sorted(m for m in messages if not all(translated.get(m, ("",))))
    assert not missing, f"{locale}: {len(missing)} untranslated, e.g. {missing[:3]}"
    for msgid in messages:
        for form in translated[msgid]:  # every plural form keeps the placeholders
            assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(form)), msgid


def test_source_has_many_messages(messages: set[str]) -> None:
    # Guards the extraction itself: an empty set would make the test above pass vacuously.
    assert len(messages) > 100


def test_compile_writes_mo_files(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    written = compile_catalogs(tmp_path / "locales", force=True)
    assert sorted(p.parent.parent.name for p in written) == ["en", "ru", "zh"]
    assert compile_catalogs(tmp_path / "locales") == []  # up to date: nothing rewritten


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", "zh"),
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("en-GB", "en"),
        ("ru", "ru"),
        ("de", "ru"),
        (None, "ru"),
    ],
)
def test_resolve_locale(code: str | None, expected: str) -> None:
    assert resolve_locale(code, "ru") == expected
