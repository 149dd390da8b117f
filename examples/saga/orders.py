"""The orders service: the saga's coordinator. POST /orders {"order", "amount", "sku", "qty"}
captures the payment (POST /capture on the payment route), then reserves the stock (POST
/reserve on the inventory route), each call carrying X-Order-Id, and confirms the order.
GET /state lists the orders and their status.

--mode buggy: when the reservation fails it answers an error and stops there; the order stays
"pending" and the payment stays captured (a ghost order).
--mode correct: when the reservation fails it compensates: POST /refund on the payment route,
and the order is "cancelled".
"""

import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

orders = {}  # order id -> {"order", "status"}
lock = threading.Lock()


def call(port, path, body, order):
    """One upstream call through a Faultline route: (status, parsed body) or (None, reason)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json", "X-Order-Id": order})
        response = conn.getresponse()
        text = response.read().decode()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text
    except (OSError, http.client.HTTPException) as error:
        return None, type(error).__name__
    finally:
        conn.close()


def set_status(order, status):
    with lock:
        orders[order]["status"] = status


class Handler(JSONHandler):
    arguments = {
        "--payment-port": dict(type=int, required=True),
        "--inventory-port": dict(type=int, required=True),
        "--mode": dict(choices=["buggy", "correct"], required=True),
    }

    def do_GET(self):
        if self.path != "/state":
            return self.answer(404, {"error": "not found"})
        with lock:
            self.answer(200, {"orders": [dict(o) for o in orders.values()]})

    def do_POST(self):
        request = self.json_body()
        if self.path != "/orders":
            return self.answer(404, {"error": "not found"})
        order = request["order"]
        with lock:
            orders[order] = {"order": order, "status": "pending"}

        # Step 1: take the money.
        status, body = call(self.args.payment_port, "/capture", {"order": order, "amount": request["amount"]}, order)
        if status != 200:
            set_status(order, "failed")
            return self.answer(502, {"order": order, "status": "failed", "error": "payment: %s" % status})

        # Step 2: reserve the goods.
        status, body = call(self.args.inventory_port, "/reserve", {"order": order, "sku": request["sku"], "qty": request["qty"]}, order)
        if status == 200:
            set_status(order, "confirmed")
            return self.answer(201, {"order": order, "status": "confirmed"})

        if self.args.mode == "buggy":
            # The bug: an error goes back to the caller, and nothing undoes step 1.
            return self.answer(502, {"order": order, "error": "inventory: %s" % status})

        # The compensation: undo step 1, then record the order as cancelled.
        refund, _ = call(self.args.payment_port, "/refund", {"order": order}, order)
        if refund != 200:
            return self.answer(502, {"order": order, "status": "pending", "error": "refund failed: %s" % refund})
        set_status(order, "cancelled")
        return self.answer(409, {"order": order, "status": "cancelled", "refunded": True,
                                 "error": "inventory: %s" % status})


if __name__ == "__main__":
    serve(Handler)
