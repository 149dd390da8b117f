"""Scenario: one hop of a call chain gets 17 % slower; a tight deadline fires, a budgeted one holds.

The chain is client → A → B → C, every hop through a Faultline route (client-a, a-b, b-c), each
service doing a known amount of work (25, 25 and 35 ms). The client first measures the chain's
normal latency L (its p50) and p99 without a deadline. Then Faultline adds a `latency` fault of
17 % of L on the b-c hop (the answers from C are held that long). The buggy client's deadline is
the normal latency plus 10 % (1.1 × L): fine on a normal day, but it has no room for downstream
variance, and under the fault almost every request misses it, while A, B and C still do the
work for a client that has left. The correct client's deadline is a budget: the normal p99 plus
50 % for downstream variance (1.5 × p99); the same fault costs it nothing.

Faultline's request log of the client-a route gives the end-to-end p50/p99 it saw, before and
under the fault, and how many answers took longer than the deadline; its b-c log shows C
answering the requests the client had already given up on.
"""

import http.client
import json
import math
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, free_port, http_call  # noqa: E402

CONFIG = "Config/scenarios/latency-budget.json"
WORK_MS = {"A": 25, "B": 25, "C": 35}
FAULT_SHARE = 0.17       # the latency fault: 17 % of the chain's normal latency, on b-c
PER_PHASE = 50           # requests per phase
CONCURRENCY = 4          # client workers, each on its own keep-alive connection
TIGHT, BUDGET = 1.1, 1.5  # buggy deadline = 1.1 × L; correct deadline = 1.5 × normal p99
ATTEMPTS = 3             # calibrations of the buggy variant when the normal day is not calm
# The normal day holds the tight deadline (see main): at most this many of a phase's requests miss
# it at the client, and at most this many answers are slower than it in faultline's log.
NORMAL_MISSES_MAX, NORMAL_LATE_MAX = PER_PHASE * 3 // 10, PER_PHASE // 5


def quantile(values, q):
    """Interpolated between the closest ranks (as the report does)."""
    values = sorted(values)
    if not values:
        return None
    position = q * (len(values) - 1)
    low, high = int(math.floor(position)), int(math.ceil(position))
    return values[low] + (values[high] - values[low]) * (position - low)


class Worker:
    """One client worker: a keep-alive connection to the client-a route, closed (and reopened
    for the next request) when a deadline fires."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, request_id, deadline):
        """(latency ms or None when the deadline fired, status)."""
        start = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.connect()
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn.request("GET", "/quote", headers={"X-Request-Id": request_id})
            if deadline is not None:
                self.conn.sock.settimeout(max(0.0005, deadline - (time.monotonic() - start)))
            response = self.conn.getresponse()
            response.read()
            elapsed = time.monotonic() - start
            if deadline is not None:
                self.conn.sock.settimeout(5)
                if elapsed > deadline:  # the answer came, but after the deadline
                    self.close()
                    return None, response.status
            return elapsed * 1000, response.status
        except socket.timeout:
            self.close()  # the deadline fired: hang up, as a client with a deadline does
            return None, "deadline"
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return None, type(error).__name__

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def phase(workers, name, count, deadline=None):
    """`count` requests (ids NAME-0…), spread over the workers; {id: (latency ms or None, status)}."""
    results, lock, queue = {}, threading.Lock(), list(range(count))

    def work(worker):
        while True:
            with lock:
                if not queue:
                    return
                n = queue.pop(0)
            request_id = "%s-%03d" % (name, n)
            outcome = worker.call(request_id, deadline)
            with lock:
                results[request_id] = outcome

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def logged(records, prefix):
    """The request-log entries of one phase (by X-Request-Id prefix)."""
    return [r for r in records if (r.get("keys", {}).get("x-request-id") or "").startswith(prefix + "-")]


def variant(h, name, label, deadline_of):
    ab, bc = free_port(), free_port()
    c = h.service([sys.executable, "examples/latency-budget/hop.py", "--port", "{port}", "--name", "C",
                   "--work-ms", str(WORK_MS["C"])], name="C")
    b = h.service([sys.executable, "examples/latency-budget/hop.py", "--port", "{port}", "--name", "B",
                   "--work-ms", str(WORK_MS["B"]), "--downstream", str(bc)], name="B")
    a = h.service([sys.executable, "examples/latency-budget/hop.py", "--port", "{port}", "--name", "A",
                   "--work-ms", str(WORK_MS["A"]), "--downstream", str(ab)], name="A")
    fl = h.faultline(CONFIG, A=a.port, B=b.port, C=c.port, A_B=ab, B_C=bc)
    workers = [Worker(fl.route_port("client-a")) for _ in range(CONCURRENCY)]

    phase(workers, "prewarm", 2 * CONCURRENCY)  # connections and handler threads up
    warm = phase(workers, "normal", PER_PHASE)
    normal = [lat for lat, status in warm.values() if lat is not None and status == 200]
    L, p99 = quantile(normal, 0.5), quantile(normal, 0.99)
    deadline_ms = deadline_of(L, p99)
    delay_ms = int(round(FAULT_SHARE * L))
    before = phase(workers, "before", PER_PHASE, deadline_ms / 1000.0)

    fault = fl.apply({"id": "slow-c", "type": "latency", "route": "b-c", "delay": "%dms" % delay_ms,
                      "direction": "downstream"})
    probe = phase(workers, "probe", PER_PHASE)  # the chain under the fault, without a deadline
    after = phase(workers, "after", PER_PHASE, deadline_ms / 1000.0)
    for w in workers:
        w.close()

    total = 2 * CONCURRENCY + 4 * PER_PHASE
    edge = fl.wait_requests("client-a", total, timeout=5)
    hop = fl.wait_requests("b-c", total, timeout=5)
    injections = fl.metric("faultline_fault_injections_total", route="b-c", fault=fault, type="latency")
    applied = [e for e in fl.journal("fault.applied") if e["fault"]["id"] == fault]
    _, c_stats = http_call(c.port, "GET", "/stats")
    h.stop_all()

    def e2e(prefix):
        lat = [r["total_us"] / 1000.0 for r in logged(edge, prefix) if r["status"] == 200]
        return quantile(lat, 0.5), quantile(lat, 0.99), len(lat)

    fl_p50_before, fl_p99_before, _ = e2e("normal")
    fl_p50_after, fl_p99_after, _ = e2e("probe")
    probe_lat = [lat for lat, status in probe.values() if lat is not None]
    misses_before = sum(1 for lat, _ in before.values() if lat is None)
    misses_after = sum(1 for lat, _ in after.values() if lat is None)

    def late(prefix):
        """Faultline's view of the deadline: the requests of a phase whose answer took longer than
        it (logged 200 with total_us beyond the deadline: this daemon keeps waiting for the
        upstream after the client hung up with a FIN), or that it logged aborted_by_client."""
        entries = logged(edge, prefix)
        over = sum(1 for r in entries if r["status"] == 200 and r["total_us"] / 1000.0 > deadline_ms)
        aborted = sum(1 for r in entries if r["status"] == "aborted_by_client")
        return over, aborted

    over_before, aborted_before = late("before")
    over_after, aborted_after = late("after")
    abandoned = {rid for rid, (lat, _) in after.items() if lat is None}
    orphaned = sum(1 for r in logged(hop, "after") if r["keys"]["x-request-id"] in abandoned and r["status"] == 200)
    in_time_after = [lat for lat, _ in after.values() if lat is not None]

    h.say(label)
    h.say("    normal: client p50 %.1f ms (L), p99 %.1f ms; faultline client-a log p50 %.1f, p99 %.1f (%d requests)"
          % (L, p99, fl_p50_before, fl_p99_before, len(normal)))
    h.say("    deadline %.1f ms; before the fault it fired on %d of %d requests (faultline's client-a log: %d answers slower than it, %d aborted_by_client)"
          % (deadline_ms, misses_before, PER_PHASE, over_before, aborted_before))
    h.say("    fault: latency %d ms (17 %% of L) on b-c downstream, journaled fault.applied %s, %d connection binding%s"
          % (delay_ms, "yes" if applied else "NO", injections, "" if injections == 1 else "s"))
    h.say("    under the fault, no deadline: client p50 %.1f ms, p99 %.1f ms; faultline p50 %.1f (+%.1f ms), p99 %.1f"
          % (quantile(probe_lat, 0.5), quantile(probe_lat, 0.99), fl_p50_after, fl_p50_after - fl_p50_before, fl_p99_after))
    h.say("    under the fault, deadline %.1f ms: fired on %d of %d requests (faultline: %d answers slower than it, %d aborted_by_client)%s"
          % (deadline_ms, misses_after, PER_PHASE, over_after, aborted_after,
             "; in time: p50 %.1f ms, p99 %.1f ms" % (quantile(in_time_after, 0.5), quantile(in_time_after, 0.99))
             if in_time_after else ""))
    h.say("    work for nobody: the b-c log shows C answering %d of the %d requests the client had given up on (C served %d in all)\n"
          % (orphaned, len(abandoned), c_stats["served"]))
    h.record(name, normal_p50_ms=round(L, 1), normal_p99_ms=round(p99, 1), deadline_ms=round(deadline_ms, 1),
             delay_ms=delay_ms, requests_per_phase=PER_PHASE,
             e2e_p50_before_ms=round(fl_p50_before, 1), e2e_p99_before_ms=round(fl_p99_before, 1),
             e2e_p50_after_ms=round(fl_p50_after, 1), e2e_p99_after_ms=round(fl_p99_after, 1),
             p50_shift_ms=round(fl_p50_after - fl_p50_before, 1),
             misses_before=misses_before, misses_after=misses_after,
             late_before=over_before + aborted_before, late_after=over_after + aborted_after,
             aborted_before=aborted_before, aborted_after=aborted_after, orphaned=orphaned,
             fault_applied=len(applied), injections=int(injections))
    return h.results[name]


def calm(r):
    """The buggy variant's precondition: on the normal day the tight deadline held, by the
    client's count and by faultline's log."""
    return r["misses_before"] <= NORMAL_MISSES_MAX and r["late_before"] <= NORMAL_LATE_MAX


def main():
    h = Harness("latency-budget")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", CONFIG)) as f:
        seed = json.load(f)["seed"]
    h.say("latency-budget: client → A → B → C (work %d + %d + %d ms), a latency fault of 17 %% of the chain's latency on b-c (seed %d)\n"
          % (WORK_MS["A"], WORK_MS["B"], WORK_MS["C"], seed))
    # The buggy story needs a calm machine: 1.1 × L leaves ~9 ms for every source of jitter. When
    # faultline's own log shows the chain itself slower than the deadline on the normal day (the
    # machine got busier after the calibration, or its spread is wider than 10 %), the calibration
    # does not describe the day, and the variant is run again with a fresh one, at most ATTEMPTS
    # times. Only this precondition is retried; the last attempt's numbers are the ones checked.
    for attempt in range(1, ATTEMPTS + 1):
        b = variant(h, "buggy", "buggy: deadline = 1.1 × the normal latency (no room for downstream variance)",
                    lambda L, p99: TIGHT * L)
        b["attempts"] = attempt
        if calm(b) or attempt == ATTEMPTS:
            break
        h.say("    (the normal day was not calm: the deadline fired on %d of %d requests before the fault, and"
              " faultline logged %d answers slower than it; recalibrating, attempt %d of %d)\n"
              % (b["misses_before"], PER_PHASE, b["late_before"], attempt + 1, ATTEMPTS))
    c = variant(h, "correct", "correct: deadline = a budget of 1.5 × the normal p99 (room for a hop to get 50 % slower)",
                lambda L, p99: BUDGET * p99)

    h.say("side by side                    buggy     correct")
    for title, key in (("normal p50 (ms)", "e2e_p50_before_ms"), ("normal p99 (ms)", "e2e_p99_before_ms"),
                       ("latency fault (ms)", "delay_ms"), ("p50 under fault (ms)", "e2e_p50_after_ms"),
                       ("p99 under fault (ms)", "e2e_p99_after_ms"), ("deadline (ms)", "deadline_ms"),
                       ("misses before", "misses_before"), ("misses under fault", "misses_after"),
                       ("C worked for nobody", "orphaned")):
        h.say("  %-27s %8s %11s" % (title, b[key], c[key]))
    h.say()

    n = PER_PHASE
    for v, r in (("buggy", b), ("correct", c)):
        h.check(r["fault_applied"] == 1 and abs(r["p50_shift_ms"] - r["delay_ms"]) <= max(0.35 * r["delay_ms"], 3.0),
                "%s: the p50 moved by about the injected delay (+%.1f ms for %d ms)" % (v, r["p50_shift_ms"], r["delay_ms"]))
    # 1.1 × L leaves ~9 ms to the client's own timing: on a loaded 2-core machine a quarter of a
    # normal day's calls were seen to miss it (13 of 50, faultline's log showing them on time), so
    # the normal-day bound is 30 %; the fault still has to add a third of the phase on top.
    h.check(b["misses_before"] <= NORMAL_MISSES_MAX, "buggy: the tight deadline holds on a normal day (%d of %d missed)" % (b["misses_before"], n))
    h.check(b["misses_after"] >= n // 2 and b["misses_after"] >= b["misses_before"] + n // 3,
            "buggy: under the fault the deadline fires on %d of %d requests" % (b["misses_after"], n))
    h.check(b["late_after"] >= n // 2 and b["late_before"] <= NORMAL_LATE_MAX,
            "buggy: faultline's log agrees: %d answers slower than the deadline under the fault, %d before"
            % (b["late_after"], b["late_before"]))
    h.check(b["orphaned"] == b["misses_after"], "buggy: C still did the work for all %d requests whose client had hung up" % b["orphaned"])
    h.check(c["misses_before"] == 0 and c["misses_after"] == 0,
            "correct: the budgeted deadline never fires (%d before, %d under the fault)" % (c["misses_before"], c["misses_after"]))
    h.check(c["late_before"] == 0 and c["late_after"] == 0, "correct: faultline's log agrees: no answer slower than the deadline")
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
