#!/usr/bin/env bash
# Developers: re-extract user-facing strings and merge them into the ru/en/zh catalogs.
# Then translate the new entries (tests fail while any msgstr is empty).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _ -k __ -k N_ -k t --no-location --sort-output \
    --project "harbin-club-bot" -o locales/messages.pot .
for lang in ru en zh; do
    po="locales/$lang/LC_MESSAGES/messages.po"
    if [ -f "$po" ]; then
        .venv/bin/pybabel update -i locales/messages.pot -d locales -l "$lang" \
            --no-fuzzy-matching --ignore-obsolete
    else
        .venv/bin/pybabel init -i locales/messages.pot -d locales -l "$lang"
    fi
done
.venv/bin/python scripts/fill_english.py
