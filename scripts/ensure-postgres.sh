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

# shellcheck source=scripts/_apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"
need_root ensure-postgres "apt-get install postgresql"

echo "ensure-postgres: installing postgresql (Debian package)..." >&2
# No main cluster: it would start a server on port 5432 that nothing here uses.
"${SUDO[@]}" mkdir -p /etc/postgresql-common
if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    echo "create_main_cluster = false" | "${SUDO[@]}" tee \
        /etc/postgresql-common/createcluster.conf >/dev/null
fi
apt_install ensure-postgres postgresql

if ! find_pg_ctl; then
    echo "ensure-postgres: installed postgresql but pg_ctl is still missing." >&2
    exit 1
fi
