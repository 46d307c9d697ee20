"""The import contract in pyproject.toml (run by ./test) fails on an arrow that runs upward,
and says which import it is."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "bot",
    "sandbox",
    "handlers",
    "web",
    "scheduling",
    "archive",
    "burials",
    "programme",
    "delivery",
    "db",
    "ground",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_of_the_house(into: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, env=env, capture_output=True, text=True
    )


def test_the_house_keeps_its_contract(tmp_path: Path) -> None:
    result = _lint(_copy_of_the_house(tmp_path))
    assert result.returncode == 0, result.stdout


def test_a_domain_importing_a_handler_breaks_the_build_and_is_named(tmp_path: Path) -> None:
    house = _copy_of_the_house(tmp_path)
    places = house / "scheduling" / "geo" / "places.py"
    places.write_text(places.read_text() + "\nfrom handlers import keyboards  # noqa\n")
    result = _lint(house)
    assert result.returncode == 1
    assert "scheduling.geo.places -> handlers.keyboards" in result.stdout


def test_telegram_inside_a_domain_breaks_the_build(tmp_path: Path) -> None:
    house = _copy_of_the_house(tmp_path)
    memoirs = house / "archive" / "memoirs.py"
    memoirs.write_text(memoirs.read_text() + "\nimport aiogram  # noqa\n")
    result = _lint(house)
    assert result.returncode == 1
    assert "archive.memoirs -> aiogram" in result.stdout


def test_a_cycle_between_handlers_breaks_the_build(tmp_path: Path) -> None:
    house = _copy_of_the_house(tmp_path)
    keyboards = house / "handlers" / "keyboards.py"
    keyboards.write_text(keyboards.read_text() + "\nfrom handlers import replies  # noqa\n")
    replies = house / "handlers" / "replies.py"
    replies.write_text(replies.read_text() + "\nfrom handlers import keyboards  # noqa\n")
    result = _lint(house)
    assert result.returncode == 1
    assert "No cycles are allowed in handlers" in result.stdout


def test_the_readme_layout_table_lists_every_folder_of_the_house() -> None:
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)/` \|", layout, flags=re.MULTILINE))
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    folders = packages | {"locales", "docs"}
    assert folders <= listed, f"missing from the README's Layout: {sorted(folders - listed)}"
    assert listed <= folders, f"listed but not in the tree: {sorted(listed - folders)}"
    # ...and the import contract names every package of the house.
    assert set(PACKAGES) == packages - {"tests", "bench"}
