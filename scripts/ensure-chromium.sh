#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the browser tests, unless both are present.
# Idempotent and silent when there is nothing to do; needs root (or sudo) to install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "ensure-chromium: $CHROMIUM or $CHROMEDRIVER is missing and installing needs root." >&2
    echo "ensure-chromium: run as root: apt-get install chromium chromium-driver" >&2
    exit 1
fi

echo "ensure-chromium: installing chromium and chromium-driver (Debian packages)..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
    || ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver >>"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-chromium: apt-get failed; see the output above." >&2
    exit 1
fi

for binary in "$CHROMIUM" "$CHROMEDRIVER"; do
    if [[ ! -x "$binary" ]]; then
        echo "ensure-chromium: installed the packages but $binary is still missing." >&2
        exit 1
    fi
done
