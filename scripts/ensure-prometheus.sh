#!/usr/bin/env bash
# Makes Prometheus and Alertmanager (prometheus, promtool, alertmanager, amtool) available to
# the integration tests, installing Debian's prometheus and prometheus-alertmanager when
# they are missing. Idempotent and quick when they are present; installing needs root (or
# sudo). The packages' own services are not started: the tests start their own servers on
# free loopback ports and stop them by PID.
set -euo pipefail

have_all() {
    command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
        && { command -v alertmanager >/dev/null 2>&1 \
             || command -v prometheus-alertmanager >/dev/null 2>&1; } \
        && command -v amtool >/dev/null 2>&1
}

if have_all; then
    exit 0
fi

# shellcheck source=scripts/_apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"
need_root ensure-prometheus "apt-get install prometheus prometheus-alertmanager"

echo "ensure-prometheus: installing prometheus and prometheus-alertmanager (Debian)..." >&2
# policy-rc.d exit 101: the packages' post-install scripts start no service here.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    trap '"${SUDO[@]}" rm -f "$policy"' EXIT
fi
apt_install ensure-prometheus prometheus prometheus-alertmanager
# Debian's packages start their daemons where a service manager runs: stop those, the
# tests use their own.
for unit in prometheus prometheus-alertmanager prometheus-node-exporter; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
        "${SUDO[@]}" systemctl stop "$unit" || true
    fi
done

if ! have_all; then
    echo "ensure-prometheus: installed the packages but a binary is still missing." >&2
    exit 1
fi
