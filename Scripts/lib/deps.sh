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

# The project's Python environment: a virtual environment made from Debian's python3, since that
# one's site-packages belong to apt (PEP 668). The tests that use jsonschema and pytest run
# $FAULTLINE_VENV/bin/python (IntegrationTests/PythonSupport.swift looks there, or at $FAULTLINE_PYTHON).
FAULTLINE_VENV=${FAULTLINE_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.build/venv}

# ensure_pip PKG ... — installs each PyPI package (NAME or NAME==VERSION) that the project's
# virtual environment lacks, making the environment first when there is none. Idempotent: when
# everything is there it runs one short python3 per package and touches nothing.
ensure_pip() {
    local missing=() spec
    if [[ ! -x $FAULTLINE_VENV/bin/python ]]; then
        ensure_debs python3 python3-venv
        echo "[deps] creating $FAULTLINE_VENV" >&2
        mkdir -p "$(dirname "$FAULTLINE_VENV")"
        /usr/bin/python3 -m venv "$FAULTLINE_VENV"
    fi
    for spec in "$@"; do
        "$FAULTLINE_VENV/bin/python" -c '
import importlib.metadata, sys
name, _, version = sys.argv[1].partition("==")
sys.exit(0 if version in ("", importlib.metadata.version(name)) else 1)' "$spec" 2>/dev/null || missing+=("$spec")
    done
    ((${#missing[@]} == 0)) && return 0
    echo "[deps] pip installing: ${missing[*]}" >&2
    "$FAULTLINE_VENV/bin/python" -m pip install -q "${missing[@]}"
}

# The packages the build needs (C libraries through pkg-config).
BUILD_DEBS=(pkg-config libssl-dev libnghttp2-dev)
