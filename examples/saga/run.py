"""Scenario: a saga's last step fails — a ghost order without compensation, a refund with it.

The orders service runs a two-step saga for each order: capture the payment, then reserve the
stock, each call through a Faultline route and carrying X-Order-Id. Faultline aborts the first
POST /reserve of every order id with 503 (`attempts: {key: header:x-order-id, first: 1}`).
Without compensation the orders service answers an error and stops: the money stays captured and
the order is never confirmed nor refunded — a ghost order, found by a consistency check over the
three services' state. With compensation it refunds the payment and cancels the order.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, http_call  # noqa: E402

HERE = "examples/saga/"
ORDERS, AMOUNT, SKU = ["ord-%d" % i for i in range(1, 6)], 30, "sku-lamp"


def wait_journal(fl, event, count, timeout=5.0):
    """The journal's `event` lines, once there are `count` of them (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        events = fl.journal(event)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def consistency(orders_port, payment_port, inventory_port):
    """Reads each service's state directly (not through Faultline) and pairs it up per order."""
    _, orders = http_call(orders_port, "GET", "/state")
    _, payments = http_call(payment_port, "GET", "/state")
    _, inventory = http_call(inventory_port, "GET", "/state")
    paid = {p["order"]: p for p in payments["payments"]}
    reserved = {r["order"] for r in inventory["reservations"]}
    rows = []
    for order in orders["orders"]:
        payment = paid.get(order["order"])
        captured = payment is not None and payment["status"] == "captured"
        ghost = captured and order["status"] != "confirmed"
        rows.append({"order": order["order"], "status": order["status"],
                     "payment": payment["status"] if payment else "-",
                     "reserved": order["order"] in reserved, "ghost": ghost})
    return rows


def variant(h, label, mode):
    payment = h.service([sys.executable, HERE + "payment.py", "--port", "{port}"], name="payment")
    inventory = h.service([sys.executable, HERE + "inventory.py", "--port", "{port}"], name="inventory")
    fl = h.faultline("Config/scenarios/saga.json", PAYMENT=payment.port, INVENTORY=inventory.port)
    orders = h.service([sys.executable, HERE + "orders.py", "--port", "{port}", "--mode", mode,
                        "--payment-port", str(fl.route_port("payment")),
                        "--inventory-port", str(fl.route_port("inventory"))], name="orders")

    answers = []
    for order in ORDERS:
        status, body = http_call(orders.port, "POST", "/orders", {"order": order, "amount": AMOUNT, "sku": SKU, "qty": 1})
        answers.append(status)

    rows = consistency(orders.port, payment.port, inventory.port)
    ghosts = [r for r in rows if r["ghost"]]
    refunds = [r for r in rows if r["payment"] == "refunded"]
    confirmed = [r for r in rows if r["status"] == "confirmed"]
    held = sum(AMOUNT for r in ghosts)

    payment_calls = 5 if mode == "buggy" else 10
    fl.wait_requests("payment", payment_calls)
    fl.wait_requests("inventory", len(ORDERS))
    faults = wait_journal(fl, "http.fault", len(ORDERS))
    pay_codes, inv_codes = fl.http_codes("payment"), fl.http_codes("inventory")
    payment_paths = {}
    for record in fl.requests("payment"):
        payment_paths[record["path"]] = payment_paths.get(record["path"], 0) + 1

    h.say(label)
    h.say("    client: %d orders placed, answers %s" % (len(ORDERS), " ".join(str(a) for a in answers)))
    h.say("    consistency check (orders × payment × inventory state, read directly):")
    for r in rows:
        h.say(("      %-6s order %-9s payment %-8s reserved %-3s %s" % (
            r["order"], r["status"], r["payment"], "yes" if r["reserved"] else "no", "← GHOST" if r["ghost"] else "")).rstrip())
    h.say("    → %d ghost order%s (%d captured and never confirmed nor refunded), %d refund%s, %d confirmed" % (
        len(ghosts), "" if len(ghosts) == 1 else "s", held, len(refunds), "" if len(refunds) == 1 else "s", len(confirmed)))
    h.say("    faultline: %d http.fault (%s), faultline_http_requests_total inventory %s, payment %s (%s)" % (
        len(faults),
        ", ".join(sorted({"%s %s %s %s" % (f["fault"], f["action"], f["method"], f["path"]) for f in faults})) or "-",
        ", ".join("%s=%d" % kv for kv in sorted(inv_codes.items())),
        ", ".join("%s=%d" % kv for kv in sorted(pay_codes.items())),
        ", ".join("%s×%d" % kv for kv in sorted(payment_paths.items()))))
    if faults:
        h.say("    first http.fault: %s" % json.dumps({k: v for k, v in faults[0].items() if k not in ("seq", "ts")}))
    h.say()
    numbers = dict(orders=len(rows), ghosts=len(ghosts), refunds=len(refunds), confirmed=len(confirmed),
                   held=held, http_faults=len(faults), inventory_503=inv_codes.get("503", 0),
                   payment_ok=pay_codes.get("200", 0), captures=payment_paths.get("/capture", 0),
                   refund_calls=payment_paths.get("/refund", 0))
    h.record(mode, **numbers)
    h.stop_all()
    return numbers, faults


def main():
    h = Harness("saga")
    h.say("saga: order → payment → inventory; the inventory step fails once per order\n")
    buggy, buggy_faults = variant(h, "buggy: the orders service gives up on an inventory failure, no compensation", "buggy")
    correct, correct_faults = variant(h, "correct: the orders service compensates (refund) and cancels the order", "correct")

    h.check(buggy["ghosts"] == len(ORDERS),
            "without compensation every order is a ghost: paid, never confirmed nor refunded (%d of %d, %d held)"
            % (buggy["ghosts"], len(ORDERS), buggy["held"]))
    h.check(buggy["refunds"] == 0 and buggy["refund_calls"] == 0, "without compensation nothing was refunded")
    h.check(correct["ghosts"] == 0, "with compensation no ghost order is left (%d)" % correct["ghosts"])
    h.check(correct["refunds"] == len(ORDERS) and correct["refund_calls"] == len(ORDERS),
            "with compensation each failed order was refunded through the payment route (%d refunds)" % correct["refunds"])
    for name, numbers, faults in (("buggy", buggy, buggy_faults), ("correct", correct, correct_faults)):
        h.check(numbers["http_faults"] == len(ORDERS) and numbers["inventory_503"] == len(ORDERS)
                and all(f["fault"] == "inventory-down" and f["route"] == "inventory" for f in faults),
                "%s: Faultline journaled %d aborts on the inventory route, one per order id, and counted %d × 503"
                % (name, numbers["http_faults"], numbers["inventory_503"]))
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
