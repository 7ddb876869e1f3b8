# Shared by the scripts/ensure-*.sh installers (sourced, not run): root or sudo, and a quiet
# apt-get install of Debian packages that prints apt's output only when it fails.

# need_root NAME HINT: set SUDO to () as root, (sudo) where sudo exists; else explain
# that NAME needs root (HINT: the command to run) and exit 1.
need_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "$1: installing needs root." >&2
        echo "$1: run as root: $2" >&2
        exit 1
    fi
}

# apt_install NAME PACKAGE...: apt-get update and install PACKAGE... without recommends,
# keeping existing configuration files; on failure print apt's output and exit 1.
apt_install() {
    local name="$1" log
    shift
    log="$(mktemp)"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
        || ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "$name: apt-get failed; see the output above." >&2
        exit 1
    fi
    rm -f "$log"
}
