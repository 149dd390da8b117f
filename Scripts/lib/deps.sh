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

# ensure_pip SPEC ... — installs PyPI packages (pip requirement specifiers, e.g. NAME==1.2.3) into
# the project's own virtualenv, $FAULTLINE_PYTOOLS (default .build-pytools, git-ignored), so
# neither Debian's python3 (PEP 668) nor the user's site-packages are touched. Exports
# FAULTLINE_PYTOOLS; the tools are in $FAULTLINE_PYTOOLS/bin. Only what is missing is installed.
ensure_pip() {
    export FAULTLINE_PYTOOLS=${FAULTLINE_PYTOOLS:-$PWD/.build-pytools}
    if [[ ! -x $FAULTLINE_PYTOOLS/bin/python ]]; then
        ensure_debs python3 python3-venv
        echo "[deps] creating virtualenv $FAULTLINE_PYTOOLS" >&2
        python3 -m venv "$FAULTLINE_PYTOOLS"
    fi
    local missing=() spec
    for spec in "$@"; do
        "$FAULTLINE_PYTOOLS/bin/python" - "$spec" <<'PY' 2>/dev/null || missing+=("$spec")
import sys
from importlib.metadata import version, PackageNotFoundError
spec = sys.argv[1]
name, _, wanted = spec.partition("==")
try:
    have = version(name)
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if not wanted or have == wanted else 1)
PY
    done
    ((${#missing[@]} == 0)) && return 0
    echo "[deps] pip installing: ${missing[*]}" >&2
    "$FAULTLINE_PYTOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2
}
