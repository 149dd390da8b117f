"""The orders service: the saga's coordinator. POST /orders {"order", "amount", "sku", "qty"}
captures the payment (POST /capture on the payment route), then reserves the stock (POST
/reserve on the inventory route), each call carrying X-Order-Id, and confirms the order.
GET /state lists the orders and their status.

--mode buggy: when the reservation fails it answers an error and stops there; the order stays
"pending" and the payment stays captured (a ghost order).
--mode correct: when the reservation fails it compensates: POST /refund on the payment route,
and the order is "cancelled".
"""

import argparse
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

orders = {}  # order id -> {"order", "status"}
lock = threading.Lock()
config = None


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/state":
            return self.answer(404, {"error": "not found"})
        with lock:
            self.answer(200, {"orders": [dict(o) for o in orders.values()]})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/orders":
            return self.answer(404, {"error": "not found"})
        order = request["order"]
        with lock:
            orders[order] = {"order": order, "status": "pending"}

        # Step 1: take the money.
        status, body = call(config.payment_port, "/capture", {"order": order, "amount": request["amount"]}, order)
        if status != 200:
            set_status(order, "failed")
            return self.answer(502, {"order": order, "status": "failed", "error": "payment: %s" % status})

        # Step 2: reserve the goods.
        status, body = call(config.inventory_port, "/reserve", {"order": order, "sku": request["sku"], "qty": request["qty"]}, order)
        if status == 200:
            set_status(order, "confirmed")
            return self.answer(201, {"order": order, "status": "confirmed"})

        if config.mode == "buggy":
            # The bug: an error goes back to the caller, and nothing undoes step 1.
            return self.answer(502, {"order": order, "error": "inventory: %s" % status})

        # The compensation: undo step 1, then record the order as cancelled.
        refund, _ = call(config.payment_port, "/refund", {"order": order}, order)
        if refund != 200:
            return self.answer(502, {"order": order, "status": "pending", "error": "refund failed: %s" % refund})
        set_status(order, "cancelled")
        return self.answer(409, {"order": order, "status": "cancelled", "refunded": True,
                                 "error": "inventory: %s" % status})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payment-port", type=int, required=True)
    parser.add_argument("--inventory-port", type=int, required=True)
    parser.add_argument("--mode", choices=["buggy", "correct"], required=True)
    config = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", config.port), Handler).serve_forever()
