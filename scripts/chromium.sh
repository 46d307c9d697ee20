#!/usr/bin/env bash
# Makes sure Debian's headless Chromium and its WebDriver are installed (the browser tests
# drive them); prints the browser's path. Idempotent: apt-get runs only when one is missing.
# The browser comes from Debian's packages only: nothing is downloaded from elsewhere.
# Usage: scripts/chromium.sh            (CI calls it before the SQLite pass)
set -euo pipefail

BROWSER=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [ ! -x "$BROWSER" ] || [ ! -x "$DRIVER" ]; then
    echo "installing chromium and chromium-driver from the Debian packages..." >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "Chromium is not installed and this is not root: apt-get install chromium chromium-driver" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # Fonts with Cyrillic and Chinese glyphs, so screenshots show the three languages.
    apt-get install -y -qq --no-install-recommends chromium chromium-driver \
        fonts-dejavu-core fonts-noto-cjk >&2
fi

echo "$BROWSER"
