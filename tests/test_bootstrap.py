"""scripts/bootstrap.sh (run by ./run and ./test): quiet when the set-up works, and when a
step fails, it names the step and shows what that step printed.

The real set-up takes a minute and the registries; here a stand-in Python plays the part:
`-m venv` makes `.venv/bin/python`, which prints the noise pip and setuptools print
(warnings, the "editable installation" banner) and fails the step named in FAIL_ON.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STAND_IN = r"""#!/usr/bin/env bash
# Stands in for python3 and for .venv/bin/python (the same script, copied).
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "WARNING: Location 'file:///opt/pypi-more/simple/yarl/' is ignored" >&2
echo "  BuildBackendWarning: Editable installation." >&2
echo "  !!  Please be careful with folders in your working directory  !!"
case "$*" in
    *"$FAIL_ON"*)
        echo "ERROR: No matching distribution found for aiogram==99.0" >&2
        exit 1
        ;;
esac
exit 0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the real bootstrap script and a stand-in Python."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    python = tmp_path / "python-stand-in"
    python.write_text(STAND_IN)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def bootstrap(project: Path, fail_on: str = "no step fails") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHON": str(project / "python-stand-in"),
        "FAIL_ON": fail_on,
        "PATH": "/usr/bin:/bin",  # no npm: the Node step is skipped
    }
    return subprocess.run(
        ["bash", str(project / "scripts" / "bootstrap.sh")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_first_set_up_says_one_line_and_hides_the_noise(project: Path) -> None:
    first = bootstrap(project)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.splitlines() == ["setting up .venv (first run only, about a minute)..."]
    again = bootstrap(project)  # nothing changed: nothing to say
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_a_failing_step_is_named_and_its_output_shown(project: Path) -> None:
    result = bootstrap(project, fail_on="-e .[test]")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert "set-up failed: installing the project and its test tools" in lines
    assert any("No matching distribution found for aiogram==99.0" in line for line in lines)
    assert not list(project.glob(".venv/.installed-*"))  # the next run tries again


def test_a_failing_catalog_compilation_is_shown_too(project: Path) -> None:
    result = bootstrap(project, fail_on="compile_catalogs")
    assert result.returncode != 0
    assert "set-up failed: compiling the translations (.mo files)" in result.stderr
    assert "No matching distribution" in result.stderr


def test_a_changed_dependency_list_is_one_line_too(project: Path) -> None:
    assert bootstrap(project).returncode == 0
    (project / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["y"]\n')
    result = bootstrap(project)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines() == [
        "installing the project's packages into .venv (pyproject.toml changed)..."
    ]
