#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the browser tests, unless both are present.
# Idempotent and silent when there is nothing to do; needs root (or sudo) to install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; then
    exit 0
fi

# shellcheck source=scripts/_apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"
need_root ensure-chromium "apt-get install chromium chromium-driver"
echo "ensure-chromium: installing chromium and chromium-driver (Debian packages)..." >&2
apt_install ensure-chromium chromium chromium-driver

for binary in "$CHROMIUM" "$CHROMEDRIVER"; do
    if [[ ! -x "$binary" ]]; then
        echo "ensure-chromium: installed the packages but $binary is still missing." >&2
        exit 1
    fi
done
