# Shared shell helpers for Scripts/*. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Everything here kills only processes the calling script started (tracked by pid) and
# removes only the temporary directory it made. Package installs live in lib/deps.sh.

# shellcheck shell=bash

log()  { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
warn() { printf '%s warning: %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- processes this script started -------------------------------------------------------

declare -ag _STARTED_PIDS=()

# track_pid PID — remember a process to stop on exit.
track_pid() { _STARTED_PIDS+=("$1"); }

# stop_pid PID — SIGTERM, then SIGKILL after 3 s; waits for it. Safe on an exited pid.
stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
    local kept=() p
    for p in "${_STARTED_PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
    _STARTED_PIDS=("${kept[@]}")
}

# stop_all_pids — stops every tracked process, newest first.
stop_all_pids() {
    local i
    for ((i = ${#_STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${_STARTED_PIDS[i]}"; done
}

declare -ag _EXIT_HOOKS=()

# on_exit FUNCTION — run FUNCTION from the exit trap (after tracked processes are stopped, before
# the temp dir goes). Only takes effect once make_temp_dir has installed the trap.
on_exit() { _EXIT_HOOKS+=("$1"); }

# make_temp_dir NAME — creates a temp dir, sets TEMP_DIR, and installs the exit trap that stops
# tracked processes, runs the on_exit hooks and removes the directory (set KEEP_TEMP=1 to keep it
# for debugging).
make_temp_dir() {
    TEMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap _cleanup_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

_cleanup_on_exit() {
    local rc=$? hook
    stop_all_pids
    for hook in "${_EXIT_HOOKS[@]}"; do "$hook" || true; done
    if [[ -n ${TEMP_DIR:-} && -d $TEMP_DIR ]]; then
        if [[ ${KEEP_TEMP:-0} == 1 ]]; then log "kept $TEMP_DIR"; else rm -rf -- "$TEMP_DIR"; fi
    fi
    exit "$rc"
}

# --- ports -------------------------------------------------------------------------------

# port_is_listening PORT — true when a TCP socket listens on PORT (any local address).
port_is_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_listening PID TIMEOUT_S PORT... — waits until every PORT listens; fails early if PID exits.
wait_listening() {
    local pid=$1 timeout=$2 deadline port
    shift 2
    deadline=$((SECONDS + timeout))
    for port in "$@"; do
        until port_is_listening "$port"; do
            kill -0 "$pid" 2>/dev/null || return 1
            ((SECONDS < deadline)) || return 1
            sleep 0.05
        done
    done
}

# free_ports N — prints N distinct free loopback ports (all bound at once, then released).
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
}

# json_field FIELD — reads one-line flat JSON on stdin, prints the numeric or string FIELD.
json_field() {
    python3 -c 'import json, sys; v = json.loads(sys.stdin.read()); print(v[sys.argv[1]])' "$1"
}
