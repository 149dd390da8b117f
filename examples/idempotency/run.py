"""Scenario: a payment retried after its answer was lost.

The payment service commits the charge, then its answer never reaches the client (Faultline's
`drop_response` on the first POST /charge, `then: hang`). The client times out after 1 s and
retries, as it should. Without an idempotency key the retry is a second charge; with one, the
service recognises the retry and answers the first charge again.
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, http_call  # noqa: E402

CUSTOMER, AMOUNT = "cus_ada", 42


def pay(port, with_key):
    """The client: charge once, retrying on a timeout, up to three attempts."""
    headers = {"Idempotency-Key": "order-%s" % uuid.uuid4().hex[:8]} if with_key else {}
    outcomes = []
    for _ in range(3):
        status, body = http_call(port, "POST", "/charge", {"customer": CUSTOMER, "amount": AMOUNT}, headers, timeout=1.0)
        outcomes.append(status if status is not None else ("timeout" if body == "timeout" else body))
        if status == 200:
            return outcomes, body
    return outcomes, None


def variant(h, label, with_key):
    payments = h.service([sys.executable, "examples/idempotency/payments.py", "--port", "{port}"], name="payments")
    fl = h.faultline("Config/scenarios/idempotency.json", PAYMENTS=payments.port)
    outcomes, charge = pay(fl.route_port("pay"), with_key)
    _, ledger = http_call(payments.port, "GET", "/ledger")
    charges = [c for c in ledger["charges"] if c["customer"] == CUSTOMER]
    fl.wait_requests("pay", len(outcomes))
    faults = fl.journal("http.fault")
    codes = fl.http_codes("pay")
    h.say("%s" % label)
    h.say("    client attempts: %s" % " → ".join(str(o) for o in outcomes))
    h.say("    ledger: %d charge%s of %d for %s (total %d)" % (
        len(charges), "" if len(charges) == 1 else "s", AMOUNT, CUSTOMER, sum(c["amount"] for c in charges)))
    h.say("    faultline: %d http.fault (%s on %s %s), faultline_http_requests_total{route=\"pay\"} %s" % (
        len(faults), faults[0]["action"] if faults else "-", faults[0]["method"] if faults else "",
        faults[0]["path"] if faults else "", ", ".join("%s=%d" % kv for kv in sorted(codes.items()))))
    report = fl.report("pay")
    if h.args.get("report"):
        h.say("    faultctl report --route pay:")
        h.say("\n".join("      " + line for line in h.faultctl(fl, "report", "--route", "pay").splitlines()))
    h.record(label.split(":")[0], charges=len(charges), attempts=len(outcomes), http_faults=len(faults),
             hang=codes.get("hang", 0), ok=codes.get("200", 0), retried=report["retries"]["groups_retried"])
    h.stop_all()
    return len(charges), len(faults), codes


def main():
    h = Harness("idempotency")
    h.say("idempotency: the payment commits, its answer is lost, the client retries\n")
    buggy, buggy_faults, buggy_codes = variant(h, "buggy: the client sends no Idempotency-Key", with_key=False)
    h.check(buggy == 2, "without a key the customer is charged twice (ledger: %d)" % buggy)
    correct, correct_faults, correct_codes = variant(h, "correct: the client sends an Idempotency-Key, the service honours it", with_key=True)
    h.check(correct == 1, "with the key the customer is charged once (ledger: %d)" % correct)
    h.check(buggy_faults == 1 and correct_faults == 1, "Faultline journaled one lost answer in each run")
    h.check(buggy_codes.get("hang") == 1 and correct_codes.get("hang") == 1,
            "faultline_http_requests_total counted the hung answer once in each run")
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
