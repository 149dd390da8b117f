"""Scenario: a hung downstream exhausts a worker pool, unless a timeout and a breaker stop it.

Service A serves GET /work (which calls service B) and GET /health from one fixed pool of 4
worker threads. B hangs: Faultline holds every GET /work on the A→B route for 30 s (a `delay`
fault). A client sends /work to A at 20/s for 4 s and checks A's /health every 200 ms.
Without a timeout on its call to B, A's four workers all wait on B, and A stops answering
anything, its own health check included. With a 300 ms timeout and a breaker (3 failures open
it for 1 s, /work then answers at once with a fallback), A stays healthy and answers degraded.
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, http_call  # noqa: E402

HERE = "examples/hung-downstream/"
LOAD_S, WORK_PER_S, HEALTH_EVERY_S = 4.0, 20, 0.2
WORK_TIMEOUT_S, HEALTH_TIMEOUT_S = 2.0, 1.0


def load(port):
    """The client: /work at 20/s and /health every 200 ms for 4 s, each request on its own
    thread (a slow answer does not slow the stream). Every request is waited for."""
    work, health, threads = [], [], []
    lock = threading.Lock()

    def one(path, timeout, into):
        started = time.monotonic()
        status, body = http_call(port, "GET", path, timeout=timeout)
        with lock:
            into.append((started, status, body, time.monotonic() - started))

    start = time.monotonic()
    events = sorted([(i / WORK_PER_S, "/work") for i in range(int(LOAD_S * WORK_PER_S))] +
                    [(i * HEALTH_EVERY_S, "/health") for i in range(int(LOAD_S / HEALTH_EVERY_S))])
    for at, path in events:
        delay = start + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        timeout, into = (WORK_TIMEOUT_S, work) if path == "/work" else (HEALTH_TIMEOUT_S, health)
        thread = threading.Thread(target=one, args=(path, timeout, into), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return [(s - start, st, b, d) for s, st, b, d in sorted(work)], [(s - start, st, b, d) for s, st, b, d in sorted(health)]


def variant(h, mode, label):
    downstream = h.service([sys.executable, HERE + "downstream.py", "--port", "{port}"], name="b")
    fl = h.faultline("Config/scenarios/hung-downstream.json", DOWNSTREAM=downstream.port)
    frontend = h.service([sys.executable, HERE + "frontend.py", "--port", "{port}", "--mode", mode,
                          "--downstream", str(fl.route_port("a-to-b"))], name="a-" + mode)
    work, health = load(frontend.port)
    _, a_stats = http_call(frontend.port, "GET", "/stats", timeout=0.5)  # (None, "timeout") when A is stuck
    _, b_stats = http_call(downstream.port, "GET", "/stats")
    held = fl.journal("http.fault")
    report = fl.report("a-to-b")
    breaker = report["breaker"]

    answered = [w for w in work if w[1] == 200]
    degraded = [w for w in answered if isinstance(w[2], dict) and w[2].get("degraded")]
    healthy = [p for p in health if p[1] == 200]
    last_ok = max((p[0] for p in healthy), default=None)
    slowest = max((p[3] for p in healthy), default=0.0)
    numbers = {
        "work_sent": len(work), "work_answered": len(answered), "work_degraded": len(degraded),
        "health_probes": len(health), "health_ok": len(healthy), "health_failed": len(health) - len(healthy),
        "health_slowest_ms": round(slowest * 1000), "calls_to_b": len(held),
        "b_served": b_stats["served"], "breaker_opened": a_stats["opened"] if isinstance(a_stats, dict) else None,
        "report_requests": report["requests"], "breaker": breaker["verdict"],
        "breaker_longest_pause_ms": breaker["longest_pause_ms"],
        "breaker_calls_per_s": breaker["calls_while_failing_per_s"],
    }
    h.say(label)
    h.say("    /work:   %d sent, %d answered within %.0f s (%d of them degraded)" % (
        len(work), len(answered), WORK_TIMEOUT_S, len(degraded)))
    h.say("    /health: %d probes, %d answered within %.0f s, %d failed%s" % (
        len(health), len(healthy), HEALTH_TIMEOUT_S, len(health) - len(healthy),
        "; last answer at %.1f s, slowest %d ms" % (last_ok, slowest * 1000) if healthy else "; none answered"))
    if mode == "buggy":
        breaker_text = "A has no breaker (and does not even answer its /stats now)"
    else:
        breaker_text = "A's breaker opened %d times" % a_stats["opened"] if isinstance(a_stats, dict) else "A did not answer /stats"
    h.say("    A → B:   %d calls reached Faultline and were held (http.fault delay_request), B served %d; %s" % (
        len(held), b_stats["served"], breaker_text))
    h.say("    report on a-to-b: %d finished requests, breaker %s (longest pause %.0f ms, %s calls/s while failing)" % (
        report["requests"], breaker["verdict"], breaker["longest_pause_ms"],
        "-" if breaker["calls_while_failing_per_s"] is None else "%.1f" % breaker["calls_while_failing_per_s"]))
    h.record(mode, **numbers)
    h.stop_all()  # A's hung calls, and the daemon's held requests, end with their processes
    return numbers


def main():
    h = Harness("hung-downstream")
    h.say("hung-downstream: B hangs for 30 s; A (4 workers) calls it for every /work, and must stay healthy\n")
    started = time.monotonic()
    buggy = variant(h, "buggy", "buggy: A calls B with no timeout and no breaker")
    h.check(buggy["work_answered"] == 0, "without a timeout no /work is answered (%d of %d)" % (buggy["work_answered"], buggy["work_sent"]))
    h.check(buggy["health_failed"] >= buggy["health_probes"] - 2,
            "A's pool is exhausted: its health check stops answering (%d of %d probes failed)" % (buggy["health_failed"], buggy["health_probes"]))
    h.check(buggy["calls_to_b"] == 4, "A's 4 workers made 4 calls to B, all of them still hung (%d)" % buggy["calls_to_b"])
    h.check(buggy["breaker"] == "not_tested" and buggy["report_requests"] == 0,
            "the report saw no call to B end, so its breaker verdict is %s" % buggy["breaker"])
    correct = variant(h, "correct", "correct: A calls B with a 300 ms timeout and a breaker (3 failures → skip B for 1 s)")
    h.check(correct["health_ok"] == correct["health_probes"],
            "with a timeout and a breaker A answers every health probe (%d of %d)" % (correct["health_ok"], correct["health_probes"]))
    h.check(correct["work_answered"] == correct["work_sent"] and correct["work_degraded"] == correct["work_sent"],
            "every /work is answered, degraded (%d of %d)" % (correct["work_degraded"], correct["work_sent"]))
    h.check(correct["breaker"] == "opened",
            "Faultline's report says A's breaker opened (longest pause %.0f ms)" % correct["breaker_longest_pause_ms"])
    h.check(correct["calls_to_b"] < correct["work_sent"] / 4,
            "the breaker spared B: %d calls for %d /work requests" % (correct["calls_to_b"], correct["work_sent"]))
    h.say("\n(%.1f s)" % (time.monotonic() - started))
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
