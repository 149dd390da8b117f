# Builds faultlined of another git revision for Scripts/bench --baseline. Source it after
# common.sh and deps.sh, and after make_temp_dir (the exit trap removes the worktree).
# shellcheck shell=bash

_BASELINE_REPO="" _BASELINE_DIR="" _BASELINE_BUILD_SID=""

# build_baseline_faultlined REPO REV DEST — checks REV of the git repository REPO out into a
# temporary `git worktree`, builds faultlined there in release mode (`swift build -c release
# --product faultlined`, scratch directory inside the same temp dir, so nothing is shared with the
# current build), copies the binary to DEST and removes the worktree again, also when the build
# fails or the script is stopped. Sets BASELINE_COMMIT (short hash). Returns 1 on any failure.
build_baseline_faultlined() {
    local repo=$1 rev=$2 dest=$3 commit rc=0 bin_dir
    commit=$(git -C "$repo" rev-parse --verify --quiet "$rev^{commit}") || {
        warn "--baseline: '$rev' is not a revision of $repo"
        return 1
    }
    BASELINE_COMMIT=$(git -C "$repo" rev-parse --short "$commit")
    _BASELINE_REPO=$repo
    _BASELINE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/faultline-baseline.XXXXXX")
    on_exit remove_baseline_worktree
    log "baseline: git worktree for $rev ($BASELINE_COMMIT) in $_BASELINE_DIR/src"
    if ! git -C "$repo" worktree add --detach "$_BASELINE_DIR/src" "$commit" >&2; then
        remove_baseline_worktree
        return 1
    fi
    # Package.resolved is not tracked: pin the baseline to the dependency versions of this tree.
    if [[ -f $repo/Package.resolved && ! -f $_BASELINE_DIR/src/Package.resolved ]]; then
        cp "$repo/Package.resolved" "$_BASELINE_DIR/src/Package.resolved"
    fi
    log "building faultlined @ $rev (release, $_BASELINE_DIR/build)"
    # In a session of its own, so that the exit trap can stop the whole build (swift build leaves
    # its compiler processes running when only it gets the signal) before removing the dir.
    (cd "$_BASELINE_DIR/src" && exec setsid swift build -c release --scratch-path "$_BASELINE_DIR/build" --product faultlined) >&2 &
    _BASELINE_BUILD_SID=$!
    wait "$_BASELINE_BUILD_SID" || rc=$?
    _stop_baseline_build
    if ((rc == 0)); then
        bin_dir=$(cd "$_BASELINE_DIR/src" && swift build -c release --scratch-path "$_BASELINE_DIR/build" --show-bin-path) &&
            cp "$bin_dir/faultlined" "$dest" || rc=1
    else
        warn "faultlined @ $rev did not build"
    fi
    remove_baseline_worktree
    return "$rc"
}

# _stop_baseline_build — ends what is left of the build: every process of its session (swift build
# starts its compilers in process groups of their own, but they stay in its session), by pid;
# TERM, then KILL after 5 s.
_stop_baseline_build() {
    local sid=$_BASELINE_BUILD_SID i pids
    [[ -n $sid ]] || return 0
    for ((i = 0; i < 50; i++)); do
        pids=$(ps -o pid= -s "$sid" 2>/dev/null | tr -s ' \n' ' ') || true
        [[ -n ${pids// /} ]] || break
        # shellcheck disable=SC2086 # a list of pids
        if ((i == 0)); then kill -TERM $pids 2>/dev/null || true; fi
        sleep 0.1
    done
    pids=$(ps -o pid= -s "$sid" 2>/dev/null | tr -s ' \n' ' ') || true
    # shellcheck disable=SC2086
    [[ -n ${pids// /} ]] && kill -KILL $pids 2>/dev/null
    wait "$sid" 2>/dev/null || true
    _BASELINE_BUILD_SID=""
}

# remove_baseline_worktree — stops a build still running, then removes the worktree, its
# registration and its build directory.
remove_baseline_worktree() {
    _stop_baseline_build
    [[ -n $_BASELINE_DIR ]] || return 0
    if [[ -d $_BASELINE_DIR/src ]]; then
        git -C "$_BASELINE_REPO" worktree remove --force "$_BASELINE_DIR/src" >/dev/null 2>&1 || true
    fi
    rm -rf -- "$_BASELINE_DIR"
    git -C "$_BASELINE_REPO" worktree prune 2>/dev/null || true
    _BASELINE_DIR=""
}
