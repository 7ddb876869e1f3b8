#!/usr/bin/env bash
# Makes PostgreSQL's server binaries (pg_ctl, initdb, postgres) available to the store tests,
# installing Debian's postgresql when they are missing, and prints the path of pg_ctl.
# Idempotent and quick when they are present; installing needs root (or sudo). The package
# is installed without its default cluster: the tests start their own servers.
set -euo pipefail

find_pg_ctl() {
    local bindir candidate
    if bindir="$(pg_config --bindir 2>/dev/null)" && [[ -x "$bindir/pg_ctl" ]]; then
        echo "$bindir/pg_ctl"
        return 0
    fi
    if candidate="$(command -v pg_ctl 2>/dev/null)" && [[ -x "$candidate" ]]; then
        echo "$candidate"
        return 0
    fi
    # Debian keeps the server binaries off PATH, one directory per major version.
    for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin/pg_ctl | sort -V -r); do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if find_pg_ctl; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "ensure-postgres: pg_ctl is missing and installing PostgreSQL needs root." >&2
    echo "ensure-postgres: run as root: apt-get install postgresql" >&2
    exit 1
fi

echo "ensure-postgres: installing postgresql (Debian package)..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# No main cluster: it would start a server on port 5432 that nothing here uses.
"${SUDO[@]}" mkdir -p /etc/postgresql-common
if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    echo "create_main_cluster = false" | "${SUDO[@]}" tee \
        /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
    || ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        postgresql >>"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-postgres: apt-get failed; see the output above." >&2
    exit 1
fi

if ! find_pg_ctl; then
    echo "ensure-postgres: installed postgresql but pg_ctl is still missing." >&2
    exit 1
fi
