# Scripts/test --sanitize address|thread: the whole suite built with a sanitizer. Source it; do not run it.
# shellcheck shell=bash
#
# Everything is built with the sanitizer into its own build path (.build-asan, .build-tsan; .build is
# not touched), and the integration tests start the faultlined and faultctl built there
# (FAULTLINED_PATH, FAULTCTL_PATH). Every sanitized process (the test runner, each daemon, faultctl,
# faultline-bench) writes its reports to <build path>/sanitizer-reports/<asan|tsan>.<pid> through
# log_path, which the children inherit with the rest of the environment. A daemon's stderr goes into
# the test's own log file, so a report there could pass unseen; the files cannot: after the run, any
# report file fails this script, whatever the tests said. halt_on_error=1 also stops the process at
# the first report, so the test that caused it fails next to it. $ASAN_OPTIONS / $TSAN_OPTIONS from the
# caller are appended (a later option wins), e.g. TSAN_OPTIONS=halt_on_error=0 to collect every report
# of one run. Tests that measure wall-clock time or memory can read $FAULTLINE_SANITIZER and skip.
#
# Not run under a sanitizer: PackageTests, which check the release .deb (no sanitizer build makes one;
# the plain Scripts/test runs them).

# run_sanitized address|thread [swift test ARGS]
run_sanitized() {
    local kind=$1 build short var supp options
    shift
    case $kind in
        address) build=.build-asan short=asan var=ASAN_OPTIONS
            # exitcode 86: a sanitizer report, told apart from a crash or a failed test.
            options="halt_on_error=1:exitcode=86:detect_leaks=1:abort_on_error=0" ;;
        thread) build=.build-tsan short=tsan var=TSAN_OPTIONS
            options="halt_on_error=1:exitcode=66:second_deadlock_stack=1" ;;
        *) echo "usage: Scripts/test --sanitize address|thread [ARGS]" >&2; return 2 ;;
    esac
    # Suppressions, each with its reason, in Scripts/sanitizers/ (tsan.supp; lsan.supp for ASan's leak check).
    supp=$PWD/Scripts/sanitizers/$short.supp
    [[ -f $supp ]] && options+=":suppressions=$supp"
    if [[ $kind == address && -f Scripts/sanitizers/lsan.supp ]]; then
        # print_suppressions=0: else each runner writes its suppression counts into a report file.
        export LSAN_OPTIONS="suppressions=$PWD/Scripts/sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    fi
    local reports=$PWD/$build/sanitizer-reports
    rm -rf "$reports"
    mkdir -p "$reports"
    # The daemon also runs as another uid in some tests (setpriv): the directory must take its reports.
    chmod 1777 "$reports"
    options+=":log_path=$reports/$short"
    [[ -n ${!var:-} ]] && options+=":${!var}"
    local started=$SECONDS

    echo "[test] building with -sanitize=$kind in $build (debug, with tests)" >&2
    swift build --build-path "$build" --sanitize "$kind" --build-tests 2>&1 \
        | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)' || true
    swift build --build-path "$build" --sanitize "$kind" --product faultlined
    swift build --build-path "$build" --sanitize "$kind" --product faultline-bench
    swift build --build-path "$build" --sanitize "$kind" --product faultctl
    local built=$SECONDS
    echo "[test] built in $((built - started)) s" >&2

    export "$var=$options"
    export FAULTLINE_SANITIZER=$kind
    export FAULTLINED_PATH=$PWD/$build/debug/faultlined FAULTCTL_PATH=$PWD/$build/debug/faultctl
    echo "[test] running under $kind sanitizer ($var=${!var})" >&2
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    local status=0
    swift test --skip-build --build-path "$build" --sanitize "$kind" --skip PackageTests "$@" || status=$?
    echo "[test] tests finished in $((SECONDS - built)) s with status $status" >&2

    local found=("$reports"/*)
    if [[ -e ${found[0]} ]]; then
        echo "[test] $kind sanitizer reports (${#found[@]} files in $reports):" >&2
        local file
        for file in "${found[@]}"; do
            echo "==== $file" >&2
            cat "$file" >&2
        done
        ((status != 0)) || status=1
    else
        echo "[test] no $kind sanitizer reports" >&2
    fi
    return "$status"
}
