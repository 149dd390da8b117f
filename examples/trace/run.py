"""Scenario: a traced request's hop aborted, found in the journal by trace id (if A propagates it).

A client sends 8 requests to service A (the frontend), each with its own W3C `traceparent`; A
calls service B (the catalog) through a Faultline route. Faultline aborts B's hop for one item
(`abort` 503 on GET /items/sku-5), so exactly one request fails. The client knows only its trace
id; the story looks that id up in `GET /v1/journal` (the `traceparent` field of `http.fault`).
When A does not propagate the trace context, the fault is journaled without a traceparent and
cannot be found by trace id; when A propagates it (same trace id, A's own span as the parent),
the lookup finds exactly the failing request's event, and no other trace finds anything.
"""

import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, http_call  # noqa: E402

HERE = "examples/trace/"
SKUS = ["sku-%d" % i for i in range(1, 9)]


def wait_journal(fl, event, count, timeout=5.0):
    """The journal's `event` lines, once there are `count` of them (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        events = fl.journal(event)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def traceparent(i):
    """The client's trace context for its i-th request: the same in both variants."""
    digest = hashlib.sha256(("faultline-trace-%d" % i).encode()).hexdigest()
    return "00-%s-%s-01" % (digest[:32], digest[32:48])


def trace_id(header):
    """The trace-id field of a traceparent (version-traceid-parentid-flags), or None."""
    parts = (header or "").split("-")
    return parts[1] if len(parts) == 4 else None


def journal_lookup(fl, wanted):
    """The raw journal lines of http.fault events whose traceparent carries trace id `wanted`."""
    text = fl.expect(200, "GET", "/v1/journal")
    lines = []
    for line in text.splitlines():
        event = json.loads(line) if line else {}
        if event.get("event") == "http.fault" and trace_id(event.get("traceparent")) == wanted:
            lines.append(line)
    return lines


def variant(h, label, mode):
    catalog = h.service([sys.executable, HERE + "catalog.py", "--port", "{port}"], name="catalog")
    fl = h.faultline("Config/scenarios/trace.json", CATALOG=catalog.port)
    frontend = h.service([sys.executable, HERE + "frontend.py", "--port", "{port}", "--mode", mode,
                          "--catalog-port", str(fl.route_port("catalog"))], name="frontend")

    sent = []  # (sku, traceparent, status)
    for i, sku in enumerate(SKUS, 1):
        header = traceparent(i)
        status, _ = http_call(frontend.port, "GET", "/products/" + sku, headers={"traceparent": header})
        sent.append((sku, header, status))
    failed = [s for s in sent if s[2] != 200]
    fl.wait_requests("catalog", len(SKUS))

    faults = wait_journal(fl, "http.fault", 1)
    traced_faults = [f for f in faults if "traceparent" in f]
    codes = fl.http_codes("catalog")
    client_traces = {trace_id(s[1]) for s in sent}
    hops_traced = sum(1 for r in fl.requests("catalog") if trace_id(r["keys"].get("traceparent")) in client_traces)

    h.say(label)
    h.say("    client: %d requests to A, %d failed: %s" % (
        len(sent), len(failed), ", ".join("GET /products/%s → %s (traceparent %s)" % (s[0], s[2], s[1]) for s in failed) or "-"))
    h.say("    faultline: %d http.fault on route catalog, %d with a traceparent; faultline_http_requests_total{route=\"catalog\"} %s; "
          "request log: %d of %d B-hops carry a client's trace id" % (
              len(faults), len(traced_faults), ", ".join("%s=%d" % kv for kv in sorted(codes.items())), hops_traced, len(SKUS)))
    matches, wanted, event = [], None, None
    if failed:
        wanted = trace_id(failed[0][1])
        matches = journal_lookup(fl, wanted)
        h.say("    lookup: GET /v1/journal, http.fault whose traceparent has trace id %s → %d line%s" % (
            wanted, len(matches), "" if len(matches) == 1 else "s"))
        for line in matches:
            h.say("      " + line)
        if not matches and faults:
            h.say("      (the fault is there, but nothing ties it to the trace: %s)" % json.dumps(
                {k: v for k, v in faults[0].items() if k not in ("seq", "ts")}))
        event = json.loads(matches[0]) if len(matches) == 1 else None
    others = sum(len(journal_lookup(fl, trace_id(s[1]))) for s in sent if s[2] == 200)
    h.say("    lookups of the %d requests that succeeded: %d lines" % (len(sent) - len(failed), others))
    h.say()

    numbers = dict(requests=len(sent), failed=len(failed), http_faults=len(faults), traced_faults=len(traced_faults),
                   matches=len(matches), other_matches=others, hops_traced=hops_traced,
                   catalog_503=codes.get("503", 0), catalog_200=codes.get("200", 0))
    if failed:
        numbers["failed_sku"] = failed[0][0]
    h.record(mode, **numbers)
    h.stop_all()
    return numbers, failed, event


def main():
    h = Harness("trace")
    h.say("trace: 8 traced requests through A → B, Faultline aborts B's hop for one of them\n")
    buggy, buggy_failed, _ = variant(h, "buggy: A calls B without the traceparent", "buggy")
    correct, correct_failed, event = variant(h, "correct: A propagates traceparent to B (same trace id, its own span)", "correct")

    for name, numbers, failed in (("buggy", buggy, buggy_failed), ("correct", correct, correct_failed)):
        h.check(numbers["failed"] == 1 and failed[0][0] == "sku-5" and numbers["http_faults"] == 1
                and numbers["catalog_503"] == 1 and numbers["catalog_200"] == len(SKUS) - 1,
                "%s: exactly one request failed (%s), and Faultline journaled one abort on B's hop"
                % (name, failed[0][0] if failed else "none"))
    h.check(buggy["traced_faults"] == 0 and buggy["matches"] == 0,
            "without propagation the journal's http.fault has no traceparent: the failing trace id finds nothing")
    h.check(buggy["hops_traced"] == 0, "without propagation none of B's hops in the request log carries a trace id")
    want = trace_id(correct_failed[0][1]) if correct_failed else None
    h.check(correct["matches"] == 1 and event is not None and event["path"] == "/items/sku-5"
            and event["fault"] == "catalog-item-5" and trace_id(event["traceparent"]) == want,
            "with propagation the failing trace id finds exactly its http.fault (GET /items/sku-5, fault catalog-item-5)")
    h.check(event is not None and event["traceparent"] != correct_failed[0][1],
            "the journaled traceparent is A's child span: same trace id, another parent id than the client's")
    h.check(correct["other_matches"] == 0, "the 7 traces that succeeded find no fault")
    h.check(correct["hops_traced"] == len(SKUS), "with propagation all %d of B's hops carry their trace id" % len(SKUS))
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
