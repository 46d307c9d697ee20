#!/usr/bin/env bash
# Creates .venv and installs the project with its test tools; cheap when nothing changed.
# Called by ./run and ./test, so a fresh clone needs nothing else but Python 3.11+.
# Quiet: pip, setuptools and npm talk a lot even when all is well, so each step's output is
# kept aside and shown only if that step fails, under a line naming the step.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
log=$(mktemp "${TMPDIR:-/tmp}/bootstrap.XXXXXX")
trap 'rm -f "$log"' EXIT

# step "what it does" command...: run quietly; on failure say what failed and show why.
step() {
    local what=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        {
            echo "set-up failed: $what"
            echo "  ($*) printed:"
            tail -n 60 "$log" | sed 's/^/  | /'
        } >&2
        exit 1
    fi
}

# Reinstall only when the dependency list changed since the last install.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv (first run only, about a minute)..." >&2
    step "creating .venv with $PYTHON (Python 3.11+ with venv)" "$PYTHON" -m venv .venv
elif [ ! -f "$stamp" ]; then
    echo "installing the project's packages into .venv (pyproject.toml changed)..." >&2
fi
if [ ! -f "$stamp" ]; then
    step "upgrading pip in .venv" .venv/bin/python -m pip install --quiet --upgrade pip
    step "installing the project and its test tools" \
        .venv/bin/python -m pip install --quiet -e ".[test]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# Node packages for the calendar tests (ical.js), when the project lists any.
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
    pstamp=node_modules/.installed-$(sha256sum package.json | cut -c1-16)
    if [ ! -f "$pstamp" ]; then
        step "installing the Node packages (npm install)" \
            npm install --silent --no-audit --no-fund
        touch "$pstamp"
    fi
fi

# gettext catalogs: .mo files are built here, never committed.
step "compiling the translations (.mo files)" \
    .venv/bin/python -c "from ground.i18n import compile_catalogs; compile_catalogs()"
