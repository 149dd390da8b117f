# profile_rps NAME PID PORT SECONDS OUT — one 64-connection rps run (faultline-bench rps, the
# rps row's command) against PORT while recording what the proxy process PID does:
#   - per thread, from /proc/PID/task/TID/schedstat before and after: time on CPU, time
#     runnable but waiting for a CPU (run-queue delay), and the number of times it was scheduled;
#   - per thread, syscall counts and times from `perf trace -s -p PID` over the same run (no PMU
#     is needed; perf trace reads the syscall tracepoints). Its own overhead slows the proxy, so
#     the rate of this run is not the row's result.
# Appends a section to OUT. Sourced by Scripts/bench (--profile).
profile_rps() {
    local name=$1 pid=$2 port=$3 seconds=$4 out=$5 perf_out perf_pid rps_out
    perf_out=$(mktemp)
    local -A before=()
    local task tid stat comm
    for task in /proc/"$pid"/task/*; do
        tid=${task##*/}
        read -r stat <"$task/schedstat" 2>/dev/null || continue
        before[$tid]=$stat
    done
    perf trace -s -p "$pid" -o "$perf_out" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
    rps_out=$("$BENCH" rps --target "127.0.0.1:$port" --conns 64 --size 64 --duration "$seconds" --threads 2 2>&1) || true
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    {
        echo "## $name (pid $pid): 64 conns, 64 B, ${seconds}s, under perf trace"
        echo
        echo "rps run: $rps_out"
        echo
        echo "| thread | tid | on CPU (ms) | waiting for a CPU (ms) | times scheduled | wait per scheduling (µs) |"
        echo "|---|--:|--:|--:|--:|--:|"
        for task in /proc/"$pid"/task/*; do
            tid=${task##*/}
            read -r stat <"$task/schedstat" 2>/dev/null || continue
            read -r comm <"$task/comm" 2>/dev/null || comm=?
            [[ -n ${before[$tid]:-} ]] || continue
            python3 - "$comm" "$tid" "${before[$tid]}" "$stat" <<'PY'
import sys
comm, tid, a, b = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
run, wait, slices = (int(b[i]) - int(a[i]) for i in range(3))
if slices == 0:
    sys.exit(0)
print(f"| {comm} | {tid} | {run / 1e6:,.1f} | {wait / 1e6:,.1f} | {slices:,} | {wait / slices / 1e3:,.1f} |")
PY
        done
        echo
        echo '```'
        # The per-thread summaries: the busiest syscalls of each thread that made any.
        awk '/events|^ *$/ && !/syscall/ {print; next} /^ +[a-z_0-9]+ +[0-9]+/ {print}' "$perf_out" | head -80
        echo '```'
        echo
    } >>"$out"
    rm -f "$perf_out"
}
