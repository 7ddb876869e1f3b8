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

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "ensure-prometheus: Prometheus is missing and installing it needs root." >&2
    echo "ensure-prometheus: run as root: apt-get install prometheus prometheus-alertmanager" >&2
    exit 1
fi

echo "ensure-prometheus: installing prometheus and prometheus-alertmanager (Debian)..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101: the packages' post-install scripts start no service here.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    made_policy=1
fi
status=0
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
    || ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        prometheus prometheus-alertmanager >>"$log" 2>&1; then
    status=1
fi
if [[ "$made_policy" -eq 1 ]]; then
    "${SUDO[@]}" rm -f "$policy"
fi
if [[ "$status" -ne 0 ]]; then
    cat "$log" >&2
    echo "ensure-prometheus: apt-get failed; see the output above." >&2
    exit 1
fi
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
