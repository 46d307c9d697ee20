#!/usr/bin/env bash
# Creates .venv and installs the project with its test tools; cheap when nothing changed.
# Called by ./run and ./test, so a fresh clone needs nothing else but Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv (first run only)..." >&2
    "$PYTHON" -m venv .venv
fi

# Reinstall only when the dependency list changed since the last install.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e ".[test]" >&2
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# Node packages for the calendar tests (ical.js), when the project lists any.
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
    pstamp=node_modules/.installed-$(sha256sum package.json | cut -c1-16)
    if [ ! -f "$pstamp" ]; then
        npm install --silent --no-audit --no-fund >&2
        touch "$pstamp"
    fi
fi

# gettext catalogs: .mo files are built here, never committed.
.venv/bin/python -c "from ground.i18n import compile_catalogs; compile_catalogs()"
