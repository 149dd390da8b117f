"""Scenario: 30 clients, a 3 s outage: immediate retries make a storm, full-jitter backoff does not.

The inventory service goes down for 3 s (a scheduled `abort` 503 with `"for": "3s"` in front of
it). At that moment 30 clients each need one answer (their own `X-Request-Id`) and retry until
they get it. The naive clients retry at once, again and again: thousands of requests, a peak
rate of thousands per second, and every one of them hits the service in the same instant it
comes back. Clients with exponential backoff and full jitter (sleep uniform(0, min(cap,
100 ms·2^k))) send a few hundred, spread out. Faultline's report tells the two apart from what it
saw at the door: `backoff`, `jitter` and `herd`, plus the request rate from its request log.
"""

import datetime
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import clients as storm  # noqa: E402
from harness import ROOT, Harness, http_call  # noqa: E402

CONFIG = "Config/scenarios/retry-storm.json"
CLIENTS = 30
MAX_ATTEMPTS = 5000          # a safety bound per client (the outage ends first: ~1500 naive attempts on 2 cores)
BASE, CAP = 0.100, 5.0       # full jitter: uniform(0, min(CAP, BASE * 2**k)) before retry k+1
WINDOW = 0.100               # the peak rate is the most requests in any 100 ms window


def parse_ts(text):
    """Seconds since the epoch of an RFC 3339 UTC timestamp with microseconds (the log's `ts`)."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def peak_rate(times, window=WINDOW):
    """The most requests that started within any `window` seconds, as requests per second."""
    times = sorted(times)
    best, low = 0, 0
    for high in range(len(times)):
        while times[high] - times[low] >= window:
            low += 1
        best = max(best, high - low + 1)
    return best / window, best


def wait_applied(fl, timeout=5.0):
    """Waits until the schedule has put the outage in force."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        schedule = fl.expect(200, "GET", "/v1/schedule")
        if "outage" in schedule.get("applied", []):
            return True
        time.sleep(0.005)
    return False


def variant(h, name, label, policy, seed):
    inventory = h.service([sys.executable, "examples/retry-storm/inventory.py", "--port", "{port}"], name="inventory")
    fl = h.faultline(CONFIG, INVENTORY=inventory.port)
    clients = storm.connect(fl.route_port("inventory"), CLIENTS, policy, seed, MAX_ATTEMPTS, BASE, CAP)
    fl.expect(200, "POST", "/v1/schedule/start")
    if not wait_applied(fl):
        raise RuntimeError("the schedule did not apply the outage")
    started = storm.run(clients)  # the outage is in force: every client sends its request now
    finished = max(c.done_at or time.monotonic() for c in clients) - started

    attempts = sum(c.attempts for c in clients)
    succeeded = sum(1 for c in clients if c.done_at is not None)
    records = fl.wait_requests("inventory", attempts, timeout=10)
    report = fl.report("inventory")
    steps = {e["action"]: parse_ts(e["ts"]) for e in fl.journal("schedule.step") if e.get("fault") == "outage"}
    down, up = steps.get("apply"), steps.get("clear")
    codes = fl.http_codes("inventory")
    _, stats = http_call(inventory.port, "GET", "/stats")
    h.stop_all()

    times = [parse_ts(r["ts"]) for r in records]
    peak, in_window = peak_rate(times)
    wins = sorted(parse_ts(r["ts"]) for r in records if r["status"] == 200)
    wins_peak = peak_rate(wins)[1]
    win_spread = (wins[-1] - wins[0]) * 1000 if wins else None
    backoff, jitter, herd, retries = report["backoff"], report["jitter"], report["herd"], report["retries"]

    h.say(label)
    h.say("    clients: %d succeeded of %d, %d attempts in all (%d…%d per client), the last done %.2f s after the outage began"
          % (succeeded, CLIENTS, attempts, min(c.attempts for c in clients), max(c.attempts for c in clients), finished))
    h.say("    faultline: %d requests logged (%s); the outage lasted %.2f s (schedule.step apply → clear)"
          % (len(records), ", ".join("%s=%d" % kv for kv in sorted(codes.items())),
             (up - down) if down is not None and up is not None else float("nan")))
    mean = codes.get("503", 0) / (up - down) if down is not None and up is not None and up > down else 0.0
    h.say("    rate: peak %d requests in one 100 ms window = %.0f req/s; %.0f req/s on average while it was down"
          % (in_window, peak, mean))
    h.say("    recovery: the %d successes arrived within %.0f ms of each other, at most %d in one 100 ms window"
          % (len(wins), win_spread or 0, wins_peak))
    h.say("    report: backoff.shape=%s factor=%s first_gap_ms=%s gaps p50=%s ms, jitter.present=%s spread=%s, herd.max_concurrent_retries=%d aligned=%s"
          % (backoff["shape"], backoff["factor"], backoff["first_gap_ms"], (retries["gaps_ms"] or {}).get("p50"),
             jitter["present"], jitter["spread"], herd["max_concurrent_retries"], herd["aligned"]))
    h.say("    the inventory service handled %d requests itself (the 503s never reached it)\n" % stats["handled"])
    h.record(name, clients=CLIENTS, succeeded=succeeded, attempts=attempts, requests=len(records),
             rejected=codes.get("503", 0), ok=codes.get("200", 0), handled=stats["handled"],
             peak_rate=round(peak), peak_in_window=in_window, mean_rate=round(mean), finished_s=round(finished, 3),
             outage_s=round(up - down, 3) if down is not None and up is not None else None,
             recovery_spread_ms=round(win_spread, 1) if win_spread is not None else None, recovery_peak=wins_peak,
             shape=backoff["shape"], factor=backoff["factor"], first_gap_ms=backoff["first_gap_ms"],
             gaps_p50_ms=(retries["gaps_ms"] or {}).get("p50"),
             jitter_present=jitter["present"], jitter_spread=jitter["spread"],
             max_concurrent_retries=herd["max_concurrent_retries"], aligned=herd["aligned"],
             groups=report["groups"], groups_retried=retries["groups_retried"], gave_up=retries["gave_up"],
             max_attempts=retries["max_attempts"])
    return h.results[name]


def main():
    h = Harness("retry-storm")
    with open(os.path.join(ROOT, CONFIG)) as f:
        seed = json.load(f)["seed"]
    h.say("retry-storm: the inventory service is down for 3 s while %d clients each need one answer (seed %d)\n" % (CLIENTS, seed))
    b = variant(h, "buggy", "buggy: naive clients retry the moment the 503 arrives", "naive", seed)
    c = variant(h, "correct", "correct: exponential backoff with full jitter, sleep uniform(0, min(5 s, 100 ms·2^k))", "backoff", seed)

    h.say("side by side                   buggy      correct")
    for title, key in (("requests", "requests"), ("peak req/s (100 ms window)", "peak_rate"), ("mean req/s while down", "mean_rate"),
                       ("backoff.shape", "shape"), ("retry gaps p50 (ms)", "gaps_p50_ms"),
                       ("jitter.present", "jitter_present"), ("herd.max_concurrent_retries", "max_concurrent_retries"),
                       ("herd.aligned", "aligned"), ("successes in one 100 ms", "recovery_peak"),
                       ("last client done (s)", "finished_s")):
        h.say("  %-27s %8s %12s" % (title, b[key], c[key]))
    h.say()

    h.check(b["succeeded"] == CLIENTS and c["succeeded"] == CLIENTS,
            "every client got its answer in both runs (%d and %d of %d)" % (b["succeeded"], c["succeeded"], CLIENTS))
    h.check(b["requests"] >= 1000, "naive: thousands of requests into a 3 s outage (%d)" % b["requests"])
    h.check(c["requests"] <= 15 * CLIENTS, "backoff: a few requests per client (%d, %.1f each)"
            % (c["requests"], c["requests"] / float(CLIENTS)))
    h.check(b["requests"] >= 5 * c["requests"], "naive sent %.0f× as many requests as backoff"
            % (b["requests"] / float(max(1, c["requests"]))))
    h.check(b["peak_rate"] >= 3 * c["peak_rate"], "naive peaked at %d req/s, %.1f× backoff's %d req/s"
            % (b["peak_rate"], b["peak_rate"] / float(max(1, c["peak_rate"])), c["peak_rate"]))
    h.check(b["recovery_peak"] >= 25 and c["recovery_peak"] <= 15,
            "naive: %d of 30 successes landed in one 100 ms window as the service came back; backoff: at most %d"
            % (b["recovery_peak"], c["recovery_peak"]))
    h.check(b["shape"] == "none", "report: naive backoff.shape none (%s; retry gaps p50 %s ms)" % (b["shape"], b["gaps_p50_ms"]))
    h.check(c["shape"] == "exponential" and (c["factor"] or 0) >= 1.4,
            "report: backoff.shape exponential with full jitter (%s, factor %s)" % (c["shape"], c["factor"]))
    h.check(not b["jitter_present"] and c["jitter_present"],
            "report: jitter.present false for naive, true with full jitter (spread %s)" % c["jitter_spread"])
    h.check(b["aligned"] and not c["aligned"],
            "report: herd aligned for naive (%d clients retrying in one window), not with full jitter (%d)"
            % (b["max_concurrent_retries"], c["max_concurrent_retries"]))
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
