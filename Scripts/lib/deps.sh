# Debian packages and the Swift toolchain for Scripts/*. Source it; do not run it.
# shellcheck shell=bash

# ensure_debs PKG ... — installs every listed Debian package that is not installed yet.
# Runs `apt-get update` at most once per process, and only when something is missing.
_APT_UPDATED=${_APT_UPDATED:-0}
ensure_debs() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    local sudo=()
    [[ $EUID -eq 0 ]] || sudo=(sudo)
    echo "[deps] installing: ${missing[*]}" >&2
    if [[ $_APT_UPDATED == 0 ]]; then
        "${sudo[@]}" apt-get update -qq
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_swift — puts a Swift 6 toolchain on PATH or explains how to get one.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [[ -x $dir/swift ]] && export PATH="$dir:$PATH" && break
        done
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "error: no Swift toolchain found. Install Swift 6.x for Debian 12 (swift.org/install) and put it on PATH." >&2
        exit 1
    }
}

# The packages the build needs (C libraries through pkg-config).
BUILD_DEBS=(pkg-config libssl-dev libnghttp2-dev)
